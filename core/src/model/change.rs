//! The changes people make to a board, as they travel and as they are stored,
//! and why one can be refused.

use serde::de::{self, MapAccess};
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
        let f: Fields = tagged::rest(rest)?;
        let allowed: &'static [&'static str] = match tag {
            "create" => &["shape"],
            "move" => &["id", "x", "y"],
            "delete" => &["id"],
            "resize" => &["id", "x", "y", "w", "h"],
            "rotate" => &["id", "rotation"],
            "write" => &["id", "after", "at", "text"],
            "erase" => &["id", "chars"],
            "unerase" => &["id", "chars", "text"],
            "text_size" => &["id", "size"],
            "color" => &["id", "color"],
            "layer" => &["id", "z"],
            _ => &["changes"],
        };
        // Each field it takes is required below: any more than that many is one it does not take.
        if f.count() > allowed.len() {
            return Err(de::Error::custom(format_args!("\"{tag}\" takes only the fields {}", allowed.join(", "))));
        }
        fn need<T, E: de::Error>(field: Option<T>, name: &'static str) -> Result<T, E> {
            field.ok_or_else(|| E::missing_field(name))
        }
        let id = || need(f.id.clone(), "id");
        Ok(match tag {
            "create" => Change::Create { shape: need(f.shape, "shape")? },
            "move" => Change::Move { id: id()?, x: need(f.x, "x")?, y: need(f.y, "y")? },
            "delete" => Change::Delete { id: id()? },
            "resize" => {
                let (x, y) = (need(f.x, "x")?, need(f.y, "y")?);
                Change::Resize { id: id()?, x, y, w: need(f.w, "w")?, h: need(f.h, "h")? }
            }
            "rotate" => Change::Rotate { id: id()?, rotation: need(f.rotation, "rotation")? },
            "write" => {
                let (after, at) = (need(f.after, "after")?, need(f.at, "at")?);
                Change::Write { id: id()?, after, at, text: need(f.text, "text")? }
            }
            "erase" => Change::Erase { id: id()?, chars: need(f.chars, "chars")? },
            "unerase" => Change::Unerase { id: id()?, chars: need(f.chars, "chars")?, text: need(f.text, "text")? },
            "text_size" => Change::TextSize { id: id()?, size: need(f.size, "size")? },
            "color" => Change::Color { id: id()?, color: need(f.color, "color")? },
            "layer" => Change::Layer { id: id()?, z: need(f.z, "z")? },
            _ => Change::Batch { changes: need(f.changes, "changes")? },
        })
    }
}

/// Every field a change may have, read at once and then checked against
/// what its `op` takes (`TagFirst::variant`). One struct for every op rather
/// than one each: each struct read costs the browser's bundle code of its own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    #[serde(default, deserialize_with = "present")]
    shape: Option<Shape>,
    #[serde(default, deserialize_with = "present")]
    id: Option<ShapeId>,
    #[serde(default, deserialize_with = "present")]
    x: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    y: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    w: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    h: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    rotation: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    color: Option<Color>,
    #[serde(default, deserialize_with = "present")]
    z: Option<i64>,
    /// Present, and maybe `null` (at the start): `Some(None)`.
    #[serde(default, deserialize_with = "present")]
    after: Option<Option<CharId>>,
    #[serde(default, deserialize_with = "present")]
    at: Option<CharId>,
    #[serde(default, deserialize_with = "present")]
    text: Option<String>,
    #[serde(default, deserialize_with = "present")]
    chars: Option<Vec<Run>>,
    #[serde(default, deserialize_with = "present")]
    size: Option<TextSize>,
    #[serde(default, deserialize_with = "present")]
    changes: Option<Vec<Change>>,
}

/// A field that was there, as its type reads it: `null` is refused where its
/// type takes no `null`, rather than taken for a field left out.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl Fields {
    /// How many fields were there.
    fn count(&self) -> usize {
        let f = self;
        [f.shape.is_some(), f.id.is_some(), f.x.is_some(), f.y.is_some(), f.w.is_some(), f.h.is_some()]
            .into_iter()
            .chain([f.rotation.is_some(), f.color.is_some(), f.z.is_some(), f.after.is_some(), f.at.is_some()])
            .chain([f.text.is_some(), f.chars.is_some(), f.size.is_some(), f.changes.is_some()])
            .filter(|there| *there)
            .count()
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
