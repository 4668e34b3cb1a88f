//! Restoring an earlier version: the changes that turn one board into
//! another, exactly (same shapes, places, sizes, turns, colours, texts,
//! layers and stacking order). Restoring is an ordinary edit, so it is recorded, seen live by
//! everyone and undone like any other.

use super::board::Board;
use super::change::Change;
use super::shape::Shape;
use super::text::{CharId, Text};

/// The changes that make `from` look exactly like `to`, in the order to
/// apply them: deletions first (room for what comes back), then, in `to`'s
/// drawing order, whatever each shape needs. A shape that is re-created or
/// re-layered lands on top of its layer, so within each layer the shapes
/// left alone must be the first of `to`'s, in the order they already have;
/// every later one is put back on its layer in turn.
pub fn changes_between(from: &Board, to: &Board) -> Vec<Change> {
    let mut out: Vec<Change> =
        from.shapes().filter(|s| to.get(&s.id).is_none()).map(|s| Change::Delete { id: s.id.clone() }).collect();
    // Per layer: whether the shapes left alone still form its first run, and the rank of the last.
    let mut layer = None::<i64>;
    let mut in_run = true;
    let mut last_rank = None::<usize>;
    for shape in to.shapes() {
        if layer != Some(shape.z) {
            (layer, in_run, last_rank) = (Some(shape.z), true, None);
        }
        let Some(now) = from.get(&shape.id) else {
            in_run = false;
            out.push(Change::Create { shape: shape.clone() });
            continue;
        };
        let Some(text) = text_between(now, shape) else {
            // Its text cannot be brought back letter by letter: the shape
            // comes back whole (and so on top of its layer).
            in_run = false;
            out.push(Change::Delete { id: shape.id.clone() });
            out.push(Change::Create { shape: shape.clone() });
            continue;
        };
        let r = from.position(&shape.id);
        let stays = in_run && now.z == shape.z && r > last_rank;
        if stays {
            last_rank = r;
        } else {
            in_run = false;
            out.push(Change::Layer { id: shape.id.clone(), z: shape.z });
        }
        let id = || shape.id.clone();
        if (now.w, now.h) != (shape.w, shape.h) {
            out.push(Change::Resize { id: id(), x: shape.x, y: shape.y, w: shape.w, h: shape.h });
        } else if (now.x, now.y) != (shape.x, shape.y) {
            out.push(Change::Move { id: id(), x: shape.x, y: shape.y });
        }
        if now.rotation != shape.rotation {
            out.push(Change::Rotate { id: id(), rotation: shape.rotation });
        }
        if now.text_size != shape.text_size {
            out.push(Change::TextSize { id: id(), size: shape.text_size });
        }
        out.extend(text);
        if now.fill() != shape.fill() {
            out.push(Change::Color { id: shape.id.clone(), color: shape.fill() });
        }
    }
    out
}

/// The erase and unerase that make `now`'s text show what `then`'s does,
/// keeping every character's id (so undo and others' carets still find
/// them); `None` if that cannot be done (a character of `then` that `now`
/// never had, or had as another letter).
fn text_between(now: &Shape, then: &Shape) -> Option<Vec<Change>> {
    let (a, b) = (&now.text, &then.text);
    if a.shown_chars().eq(b.shown_chars()) {
        return Some(Vec::new());
    }
    let wanted: Vec<(CharId, char)> = b.shown_chars().collect();
    let keep = super::text::Chars::of(wanted.iter().copied());
    let gone: Vec<CharId> = a.shown_ids().filter(|c| !keep.contains(*c)).collect();
    let back: Vec<(CharId, char)> = wanted.iter().copied().filter(|(c, _)| a.is_shown(*c) == Some(false)).collect();
    let mut out = Vec::new();
    let mut text: Text = a.clone();
    if !gone.is_empty() {
        let chars = Text::runs_of(&gone);
        text.erase(&chars);
        out.push(Change::Erase { id: now.id.clone(), chars });
    }
    if !back.is_empty() {
        let ids: Vec<CharId> = back.iter().map(|(c, _)| *c).collect();
        let chars = Text::runs_of(&ids);
        let letters: String = back.iter().map(|(_, ch)| *ch).collect();
        text.unerase(&chars, &letters);
        out.push(Change::Unerase { id: now.id.clone(), chars, text: letters });
    }
    // The letters must now be `then`'s, in its order: otherwise it comes back whole.
    text.shown_chars().eq(wanted.iter().copied()).then_some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::{Color, Run, Shape, ShapeId, ShapeKind, TextSize};

    type Look = (String, ShapeKind, [f64; 5], Color, i64, String, TextSize);

    /// What a board shows, in drawing order.
    fn looks(board: &Board) -> Vec<Look> {
        board
            .shapes()
            .map(|s| {
                let frame = [s.x, s.y, s.w, s.h, s.rotation];
                (s.id.to_string(), s.kind, frame, s.fill(), s.z, s.text.shown(), s.text_size)
            })
            .collect()
    }

    fn board_of(shapes: &[(u8, u8, u8, i8)]) -> Board {
        let mut board = Board::new();
        for &(id, place, color, z) in shapes {
            let n = id % 12;
            let id = ShapeId::parse(format!("s{n}")).unwrap();
            let kind = ShapeKind::ALL[usize::from(n % 3)];
            let mut shape = Shape::new(id, kind, f64::from(place) * 5.0, f64::from(place % 7) * 10.0);
            shape.color = Some(Color::ALL[usize::from(color) % Color::ALL.len()]);
            shape.z = i64::from(z % 3);
            // Sizes, turns, texts and text sizes that differ between boards too.
            shape.w = 20.0 + f64::from(place % 5) * 10.0;
            shape.h = 20.0 + f64::from(color % 4) * 10.0;
            shape.rotation = f64::from(place % 4) * 15.0;
            shape.text = Text::whole(["", "a", "ab", "b"][usize::from(color % 4)]).unwrap();
            shape.text_size = TextSize::ALL[usize::from(place % 4)];
            let _ = board.apply(&Change::Create { shape });
        }
        board
    }

    proptest! {
        #[test]
        fn applying_the_changes_gives_exactly_the_target(
            a in prop::collection::vec(any::<(u8, u8, u8, i8)>(), 0..14),
            b in prop::collection::vec(any::<(u8, u8, u8, i8)>(), 0..14),
        ) {
            let (from, to) = (board_of(&a), board_of(&b));
            let mut board = from.clone();
            for change in changes_between(&from, &to) {
                board.apply(&change).unwrap();
            }
            prop_assert_eq!(looks(&board), looks(&to));
        }
    }

    #[test]
    fn nothing_to_do_for_the_same_board() {
        let board = board_of(&[(1, 10, 2, 0), (2, 20, 3, 1), (3, 30, 4, 0)]);
        assert!(changes_between(&board, &board).is_empty());
    }

    #[test]
    fn a_moved_shape_is_only_moved_back() {
        let from = board_of(&[(1, 10, 2, 0), (2, 20, 3, 0)]);
        let mut to = from.clone();
        to.apply(&Change::Move { id: ShapeId::parse("s1").unwrap(), x: 500.0, y: 400.0 }).unwrap();
        assert_eq!(
            changes_between(&to, &from),
            vec![Change::Move { id: ShapeId::parse("s1").unwrap(), x: 50.0, y: 30.0 }]
        );
    }

    #[test]
    fn text_comes_back_letter_by_letter_keeping_its_ids() {
        let id = ShapeId::parse("note").unwrap();
        let mut shape = Shape::new(id.clone(), ShapeKind::Rectangle, 10.0, 10.0);
        shape.text = Text::whole("Buy milk").unwrap();
        let mut then = Board::new();
        then.apply(&Change::Create { shape }).unwrap();
        // Since: "milk" erased, "tea" written, the shape made bigger and turned.
        let mut now = then.clone();
        for change in [
            Change::Erase { id: id.clone(), chars: vec![Run(0, 4, 4)] },
            Change::Write { id: id.clone(), after: Some(CharId(0, 3)), at: CharId(7, 0), text: "tea".into() },
            Change::Resize { id: id.clone(), x: 0.0, y: 0.0, w: 300.0, h: 200.0 },
            Change::Rotate { id: id.clone(), rotation: 30.0 },
        ] {
            now.apply(&change).unwrap();
        }
        let changes = changes_between(&now, &then);
        assert_eq!(
            changes,
            vec![
                Change::Resize { id: id.clone(), x: 10.0, y: 10.0, w: 160.0, h: 100.0 },
                Change::Rotate { id: id.clone(), rotation: 0.0 },
                Change::Erase { id: id.clone(), chars: vec![Run(7, 0, 3)] },
                Change::Unerase { id: id.clone(), chars: vec![Run(0, 4, 4)], text: "milk".into() },
            ]
        );
        let mut board = now.clone();
        for change in &changes {
            board.apply(change).unwrap();
        }
        assert_eq!(looks(&board), looks(&then));
        // The letters are the first ones, ids and all.
        let text = &board.get(&id).unwrap().text;
        assert!(text.shown_ids().eq(then.get(&id).unwrap().text.shown_ids()));
    }
}
