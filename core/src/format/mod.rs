//! The board file (`docs/format.md`): what **Export JSON** writes and what
//! **Import** reads, versioned, so a board can leave Sketchboard and come
//! back. Reading is strict about the file (every field known, every value in
//! range, a clear message naming what is wrong) and generous about the board
//! it lands on: positions are clamped onto the board, ids are made anew, and
//! the shapes go on top of what is there, keeping their own stacking.

use serde::{Deserialize, Serialize};

use crate::model::{
    Board, Color, MAX_LAYER, MAX_SHAPES, MIN_SIDE, Shape, ShapeId, ShapeKind, Text, TextError, TextSize,
    clamp_to_board, size_fits,
};

/// What the `format` field of every board file says.
pub const FORMAT: &str = "sketchboard";
/// The version this build writes, and the newest it reads. Version 2 added
/// each shape's size and rotation; a version-1 file's shapes have their
/// kind's size and no rotation.
pub const VERSION: u32 = 2;
/// The largest file Import reads: a full board (10,000 shapes) is about 1 MB.
pub const MAX_FILE_BYTES: usize = 4 << 20;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    version: u32,
    /// The sheet the positions are on, for readers elsewhere (always 1600 × 1000 today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    board: Option<Sheet>,
    shapes: Vec<FileShape>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sheet {
    width: f64,
    height: f64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    /// Kept on export for readers elsewhere; Import makes new ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    kind: ShapeKind,
    x: f64,
    y: f64,
    /// Its size; left out (version 1), its kind's.
    #[serde(default)]
    w: Option<f64>,
    #[serde(default)]
    h: Option<f64>,
    #[serde(default, skip_serializing_if = "is_upright")]
    rotation: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    color: Option<Color>,
    #[serde(default)]
    z: i64,
    /// What is written on it (version 2); left out when nothing is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(default, skip_serializing_if = "is_medium")]
    text_size: TextSize,
}

fn is_medium(size: &TextSize) -> bool {
    *size == TextSize::M
}

fn is_upright(r: &f64) -> bool {
    *r == 0.0
}

impl FileShape {
    fn size(&self) -> (f64, f64) {
        let (w, h) = self.kind.size();
        (self.w.unwrap_or(w), self.h.unwrap_or(h))
    }
}

/// Why a file cannot be imported. Each says what is wrong in words a person can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    #[error("the file is {0} bytes; a board file is at most {MAX_FILE_BYTES} bytes")]
    TooBig(usize),
    #[error("this is not a Sketchboard board file: {0}")]
    Unreadable(String),
    #[error("this is not a Sketchboard board file (its \"format\" is {0:?})")]
    NotOurs(String),
    #[error("this board file is version {0}, newer than this Sketchboard reads ({VERSION}): update Sketchboard")]
    TooNew(u32),
    #[error("the file holds no shapes")]
    Empty,
    #[error("shape {0} of the file: its position is not a number")]
    BadPosition(usize),
    #[error("shape {0} of the file: its size is not {MIN_SIDE} to the board's width and height")]
    BadSize(usize),
    #[error("shape {0} of the file: its rotation is not 0 up to (not including) 360 degrees")]
    BadRotation(usize),
    #[error("shape {0} of the file: its text: {1}")]
    BadText(usize, TextError),
    #[error("shape {0} of the file: its layer {1} is beyond ±{MAX_LAYER}")]
    BadLayer(usize, i64),
    #[error("the file holds {file} shapes and the board {board}: a board holds at most {MAX_SHAPES}")]
    TooMany { file: usize, board: usize },
}

/// The board as a board file (the shapes in drawing order).
pub fn write(board: &Board) -> String {
    let shapes = board
        .shapes()
        .map(|s| FileShape {
            id: Some(s.id.to_string()),
            kind: s.kind,
            x: s.x,
            y: s.y,
            w: Some(s.w),
            h: Some(s.h),
            rotation: s.rotation,
            color: s.color,
            z: s.z,
            text: s.text.shown(),
            text_size: s.text_size,
        })
        .collect();
    let file = File {
        format: FORMAT.to_owned(),
        version: VERSION,
        board: Some(Sheet { width: crate::model::BOARD_WIDTH, height: crate::model::BOARD_HEIGHT }),
        shapes,
    };
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

/// The shapes of a board file, ready to add to `board`: new ids from
/// `new_id`, positions clamped onto the board, layers lifted above
/// `board`'s top one (their order kept). All of them or an error: the
/// file is refused whole if any part of it is wrong, or if the board
/// could not take them all. (`parse`, then `place`.)
pub fn read(text: &str, board: &Board, new_id: impl FnMut() -> ShapeId) -> Result<Vec<Shape>, FormatError> {
    place(parse(text)?, board, new_id)
}

/// The shapes of a board file as they would land on an empty board: checked,
/// clamped onto the sheet, with their own layers and ids `f1`, `f2`, … The
/// server reads files for the page (`POST /api/board-file`), so this reader
/// and its messages stay out of the browser's bundle.
pub fn parse(text: &str) -> Result<Vec<Shape>, FormatError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(FormatError::TooBig(text.len()));
    }
    // The format first, so that a file from elsewhere is told apart from a broken one of ours.
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
        version: Option<u32>,
    }
    let head: Head = serde_json::from_str(text).map_err(|e| FormatError::Unreadable(e.to_string()))?;
    match (head.format, head.version) {
        (Some(f), _) if f != FORMAT => return Err(FormatError::NotOurs(f)),
        (_, Some(v)) if v > VERSION => return Err(FormatError::TooNew(v)),
        _ => {}
    }
    let file: File = serde_json::from_str(text).map_err(|e| FormatError::Unreadable(e.to_string()))?;
    if file.shapes.is_empty() {
        return Err(FormatError::Empty);
    }
    if file.shapes.len() > MAX_SHAPES {
        return Err(FormatError::TooMany { file: file.shapes.len(), board: 0 });
    }
    for (i, s) in file.shapes.iter().enumerate() {
        if !(s.x.is_finite() && s.y.is_finite()) {
            return Err(FormatError::BadPosition(i + 1));
        }
        let (w, h) = s.size();
        if !size_fits(w, h) {
            return Err(FormatError::BadSize(i + 1));
        }
        if !(0.0..360.0).contains(&s.rotation) {
            return Err(FormatError::BadRotation(i + 1));
        }
        if s.z.abs() > MAX_LAYER {
            return Err(FormatError::BadLayer(i + 1, s.z));
        }
        Text::whole(&s.text).map_err(|e| FormatError::BadText(i + 1, e))?;
    }
    let mut n = 0;
    Ok(file
        .shapes
        .into_iter()
        .filter_map(|s| {
            let (w, h) = s.size();
            let (x, y) = clamp_to_board((w, h), s.x, s.y);
            let text = Text::whole(&s.text).unwrap_or_default();
            let (rotation, text_size, color, z) = (s.rotation, s.text_size, s.color, s.z);
            n += 1;
            let id = ShapeId::parse(format!("f{n}")).ok()?;
            Some(Shape { w, h, rotation, color, z, text, text_size, ..Shape::new(id, s.kind, x, y) })
        })
        .collect())
}

/// `shapes` (as `parse` gives them) ready to add to `board`: new ids from
/// `new_id`, layers lifted above `board`'s top one, their order kept (onto an
/// empty board they keep their own); refused if the board cannot take them all.
pub fn place(
    shapes: Vec<Shape>,
    board: &Board,
    mut new_id: impl FnMut() -> ShapeId,
) -> Result<Vec<Shape>, FormatError> {
    if board.len() + shapes.len() > MAX_SHAPES {
        return Err(FormatError::TooMany { file: shapes.len(), board: board.len() });
    }
    let lowest = shapes.iter().map(|s| s.z).min().unwrap_or(0);
    let lift = if board.is_empty() { 0 } else { board.top_layer() + 1 - lowest };
    Ok(shapes
        .into_iter()
        .map(|s| Shape { id: new_id(), z: s.z.saturating_add(lift).clamp(-MAX_LAYER, MAX_LAYER), ..s })
        .collect())
}

#[cfg(test)]
mod tests;
