//! The changes people make to a board, as they travel and as they are stored,
//! and why one can be refused.

use serde::de::MapAccess;
use serde::{Deserialize, Serialize};

use crate::tagged::{self, TagFirst};

use super::color::Color;
use super::ident::ShapeId;
use super::shape::{MAX_LAYER, MAX_SHAPES, MIN_SIDE, Shape, TextSize};
use super::text::{CharId, Run, TextError};

/// The most changes one batch holds: enough to replace a full board in one
/// change (delete every shape, create as many), so an import, a restore or
/// an action on every shape is one recorded change and one undo step. A batch
/// too big for one message travels in `part` messages (`protocol`).
pub const MAX_BATCH: usize = 2 * MAX_SHAPES;

/// The most characters all the texts of one board keep, shown or erased
/// (`text::MAX_STORED` each at most): about 12 MB of memory for a room.
pub const MAX_BOARD_TEXT: usize = 1_000_000;

/// One change to a board. Each sets one property of a shape (its position,
/// its frame, its turn, its colour, its layer) to an absolute value, so the
/// last one in server order wins per property, two people changing different
/// properties of one shape both keep theirs, and replaying one is harmless;
/// deleting a shape that is gone is a no-op. On the wire, `{"op": "move", …}` with `op` first
/// (read by `tagged`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    Create {
        shape: Shape,
    },
    Move {
        id: ShapeId,
        x: f64,
        y: f64,
    },
    Delete {
        id: ShapeId,
    },
    /// Gives a shape this box: a size, and the position that goes with it (a
    /// shape resized by its left or top edge moves too).
    Resize {
        id: ShapeId,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    },
    /// Turns a shape to this angle, in degrees clockwise about its centre.
    Rotate {
        id: ShapeId,
        rotation: f64,
    },
    /// Writes `text` in a shape, right after character `after` (none: at
    /// the start), its characters numbered `at`, `at + 1`, … (`text`).
    Write {
        id: ShapeId,
        after: Option<CharId>,
        at: CharId,
        text: String,
    },
    /// Erases these characters of a shape's text.
    Erase {
        id: ShapeId,
        chars: Vec<Run>,
    },
    /// Brings back erased characters of a shape's text, as `text` has them
    /// (one for each id of `chars`, in order): how an erase is undone.
    Unerase {
        id: ShapeId,
        chars: Vec<Run>,
        text: String,
    },
    /// Draws a shape's text this big.
    TextSize {
        id: ShapeId,
        size: TextSize,
    },
    /// Gives a shape this fill.
    Color {
        id: ShapeId,
        color: Color,
    },
    /// Puts a shape on this layer, above every shape already on it.
    Layer {
        id: ShapeId,
        z: i64,
    },
    /// Several changes (none of them a batch) applied in order, all or
    /// nothing, and numbered once: nobody ever sees half of one.
    Batch {
        changes: Vec<Change>,
    },
}

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Change, D::Error> {
        tagged::deserialize(deserializer)
    }
}

impl TagFirst for Change {
    const TAG: &'static str = "op";
    const VARIANTS: &'static [&'static str] = &[
        "create",
        "move",
        "delete",
        "resize",
        "rotate",
        "write",
        "erase",
        "unerase",
        "text_size",
        "color",
        "layer",
        "batch",
    ];

    fn variant<'de, A: MapAccess<'de>>(tag: &str, rest: A) -> Result<Change, A::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Create {
            shape: Shape,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Move {
            id: ShapeId,
            x: f64,
            y: f64,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Delete {
            id: ShapeId,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Resize {
            id: ShapeId,
            x: f64,
            y: f64,
            w: f64,
            h: f64,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Rotate {
            id: ShapeId,
            rotation: f64,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Write {
            id: ShapeId,
            after: Option<CharId>,
            at: CharId,
            text: String,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Erase {
            id: ShapeId,
            chars: Vec<Run>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Unerase {
            id: ShapeId,
            chars: Vec<Run>,
            text: String,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Size {
            id: ShapeId,
            size: TextSize,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Paint {
            id: ShapeId,
            color: Color,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Layer {
            id: ShapeId,
            z: i64,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Batch {
            changes: Vec<Change>,
        }
        Ok(match tag {
            "create" => tagged::rest::<_, Create>(rest).map(|c| Change::Create { shape: c.shape })?,
            "move" => tagged::rest::<_, Move>(rest).map(|m| Change::Move { id: m.id, x: m.x, y: m.y })?,
            "resize" => {
                let r = tagged::rest::<_, Resize>(rest)?;
                Change::Resize { id: r.id, x: r.x, y: r.y, w: r.w, h: r.h }
            }
            "rotate" => tagged::rest::<_, Rotate>(rest).map(|r| Change::Rotate { id: r.id, rotation: r.rotation })?,
            "write" => {
                let w = tagged::rest::<_, Write>(rest)?;
                Change::Write { id: w.id, after: w.after, at: w.at, text: w.text }
            }
            "erase" => tagged::rest::<_, Erase>(rest).map(|e| Change::Erase { id: e.id, chars: e.chars })?,
            "unerase" => {
                let u = tagged::rest::<_, Unerase>(rest)?;
                Change::Unerase { id: u.id, chars: u.chars, text: u.text }
            }
            "text_size" => tagged::rest::<_, Size>(rest).map(|t| Change::TextSize { id: t.id, size: t.size })?,
            "color" => tagged::rest::<_, Paint>(rest).map(|p| Change::Color { id: p.id, color: p.color })?,
            "layer" => tagged::rest::<_, Layer>(rest).map(|l| Change::Layer { id: l.id, z: l.z })?,
            "batch" => tagged::rest::<_, Batch>(rest).map(|b| Change::Batch { changes: b.changes })?,
            _ => tagged::rest::<_, Delete>(rest).map(|d| Change::Delete { id: d.id })?,
        })
    }
}

impl Change {
    /// The single changes this one is made of: itself, or a batch's.
    pub fn parts(&self) -> &[Change] {
        match self {
            Change::Batch { changes } => changes,
            one => std::slice::from_ref(one),
        }
    }

    /// The shape a single change is about.
    pub fn shape_id(&self) -> Option<&ShapeId> {
        match self {
            Change::Create { shape } => Some(&shape.id),
            Change::Move { id, .. }
            | Change::Delete { id }
            | Change::Resize { id, .. }
            | Change::Rotate { id, .. }
            | Change::Write { id, .. }
            | Change::Erase { id, .. }
            | Change::Unerase { id, .. }
            | Change::TextSize { id, .. }
            | Change::Color { id, .. }
            | Change::Layer { id, .. } => Some(id),
            Change::Batch { .. } => None,
        }
    }

    /// Whether it may encode longer than `LONGEST_CHANGE` (a shape made with
    /// text, a write, characters erased or brought back): such changes are
    /// measured before they are sent.
    pub fn may_be_long(&self) -> bool {
        match self {
            Change::Create { shape } => shape.text.kept() > 0,
            Change::Write { .. } | Change::Erase { .. } | Change::Unerase { .. } => true,
            Change::Batch { changes } => changes.iter().any(Change::may_be_long),
            _ => false,
        }
    }

    /// `parts` as one change: a batch only when there are several.
    pub fn from_parts(mut parts: Vec<Change>) -> Option<Change> {
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Change::Batch { changes: parts }),
        }
    }
}

/// Why a change was refused. The board is untouched when one is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangeError {
    #[error("no shape with id {0} on this board")]
    UnknownShape(ShapeId),
    #[error("a shape with id {0} already exists")]
    DuplicateShape(ShapeId),
    #[error("position ({}, {}) is outside the board for a shape of {} × {}", Coord(*.x), Coord(*.y), Coord(*.w), Coord(*.h))]
    OutOfBounds { w: f64, h: f64, x: f64, y: f64 },
    #[error("a size of {} × {} is not one a shape can have: each side is {MIN_SIDE} to the board's", Coord(*.w), Coord(*.h))]
    BadSize { w: f64, h: f64 },
    #[error("a rotation of {} is not an angle: it is 0 up to (not including) 360 degrees", Coord(*.0))]
    BadRotation(f64),
    #[error("the text of shape {id}: {source}")]
    Text { id: ShapeId, source: TextError },
    #[error("the board holds as much text as it may ({MAX_BOARD_TEXT} characters, erased ones included)")]
    BoardTextFull,
    #[error("the board already holds the maximum of {MAX_SHAPES} shapes")]
    TooManyShapes,
    #[error("layer {0} is beyond ±{MAX_LAYER}")]
    LayerOutOfRange(i64),
    #[error("a batch holds 1 to {MAX_BATCH} changes, not {0}")]
    BatchSize(usize),
    #[error("a batch cannot hold another batch")]
    NestedBatch,
    /// One change of a batch was refused, and with it the whole batch.
    #[error("change {} of the batch: {source}", .index + 1)]
    InBatch { index: usize, source: Box<ChangeError> },
    #[error("the shapes are not in layer order")]
    LayersOutOfOrder,
}

impl ChangeError {
    /// The reason itself, out of any batch it was found in.
    pub fn root(&self) -> &ChangeError {
        match self {
            ChangeError::InBatch { source, .. } => source.root(),
            other => other,
        }
    }
}

/// A coordinate for people to read, to the hundredth, written with integer
/// arithmetic: the browser's bundle then carries no float formatting at all.
pub(super) struct Coord(pub(super) f64);

impl std::fmt::Display for Coord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = self.0;
        if x.is_nan() {
            return f.write_str("NaN");
        }
        if x.is_infinite() {
            return f.write_str(if x > 0.0 { "infinity" } else { "-infinity" });
        }
        // Beyond what an i64 of hundredths holds, the digits mean nothing here.
        let hundredths = (x * 100.0).round().clamp(i64::MIN as f64, i64::MAX as f64) as i64;
        let sign = if hundredths < 0 { "-" } else { "" };
        let (whole, part) = (hundredths.unsigned_abs() / 100, hundredths.unsigned_abs() % 100);
        match part {
            0 => write!(f, "{sign}{whole}"),
            p if p % 10 == 0 => write!(f, "{sign}{whole}.{}", p / 10),
            p => write!(f, "{sign}{whole}.{p:02}"),
        }
    }
}
