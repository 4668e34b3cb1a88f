//! Restoring an earlier version: the changes that turn one board into
//! another, exactly (same shapes, places, colours, layers and stacking
//! order). Restoring is an ordinary edit, so it is recorded, seen live by
//! everyone and undone like any other.

use std::collections::HashMap;

use super::board::Board;
use super::change::Change;
use super::ident::ShapeId;

/// The changes that make `from` look exactly like `to`, in the order to
/// apply them: deletions first (room for what comes back), then, in `to`'s
/// drawing order, whatever each shape needs. A shape that is re-created or
/// re-layered lands on top of its layer, so within each layer the shapes
/// left alone must be the first of `to`'s, in the order they already have;
/// every later one is put back on its layer in turn.
pub fn changes_between(from: &Board, to: &Board) -> Vec<Change> {
    let rank: HashMap<&ShapeId, usize> = from.shapes().enumerate().map(|(i, s)| (&s.id, i)).collect();
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
        let r = rank.get(&shape.id).copied();
        let stays = in_run && now.z == shape.z && r > last_rank;
        if stays {
            last_rank = r;
        } else {
            in_run = false;
            out.push(Change::Layer { id: shape.id.clone(), z: shape.z });
        }
        if (now.x, now.y) != (shape.x, shape.y) {
            out.push(Change::Move { id: shape.id.clone(), x: shape.x, y: shape.y });
        }
        if now.fill() != shape.fill() {
            out.push(Change::Color { id: shape.id.clone(), color: shape.fill() });
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::{Color, Shape, ShapeKind};

    /// What a board shows, in drawing order.
    fn looks(board: &Board) -> Vec<(String, ShapeKind, f64, f64, Color, i64)> {
        board.shapes().map(|s| (s.id.to_string(), s.kind, s.x, s.y, s.fill(), s.z)).collect()
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
}
