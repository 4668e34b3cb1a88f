//! What others do, told to screen readers: a short, polite live region
//! ("Blue Otter moved a red circle"), updated at most once a second. What
//! happens in between is summed up ("Blue Otter made 12 changes", "Ann and
//! Bo made 5 changes") rather than queued, so a drag by someone else is one
//! announcement, not sixty.

use std::cell::{Cell, RefCell};

use gloo_timers::callback::Timeout;

use sketchboard_core::model::{Board, Change, Shape};

/// The least time between two announcements.
const EVERY_MS: f64 = 1000.0;

/// "a red circle" ("an orange triangle"), for a shape on `board`.
fn a(shape: &Shape) -> String {
    let colour = shape.fill().name();
    let article = if colour.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {colour} {}", shape.kind.css_name())
}

/// What `change` did, after it was applied to `board` ("moved a red circle").
pub(super) fn what(change: &Change, board: &Board) -> String {
    let shape = |id| board.get(id).map(a).unwrap_or_else(|| "a shape".to_owned());
    match change {
        Change::Create { shape: s } => format!("added {}", shape(&s.id)),
        Change::Move { id, .. } => format!("moved {}", shape(id)),
        Change::Delete { .. } => "deleted a shape".to_owned(),
        Change::Resize { id, .. } => format!("resized {}", shape(id)),
        Change::Rotate { id, .. } => format!("turned {}", shape(id)),
        Change::Write { id, .. } | Change::Erase { id, .. } | Change::Unerase { id, .. } => {
            format!("wrote on {}", shape(id))
        }
        Change::TextSize { id, .. } => format!("resized the text of {}", shape(id)),
        Change::Color { id, .. } => format!("coloured {}", shape(id)),
        Change::Layer { id, .. } => format!("restacked {}", shape(id)),
        Change::Batch { changes } => {
            let n = changes.len();
            let verb = match changes.first() {
                Some(Change::Create { .. }) => "added",
                Some(Change::Move { .. }) => "moved",
                Some(Change::Delete { .. }) => "deleted",
                Some(Change::Resize { .. }) => "resized",
                Some(Change::Rotate { .. }) => "turned",
                _ => "changed",
            };
            let same = changes.iter().all(|c| std::mem::discriminant(c) == std::mem::discriminant(&changes[0]));
            format!("{} {n} shapes", if same { verb } else { "changed" })
        }
    }
}

/// One line for everything heard since the last announcement.
fn summary(heard: &[(String, String)]) -> Option<String> {
    // The same thing over and over (someone's drag) is said once.
    let mut heard = heard.to_vec();
    heard.dedup();
    let (first, rest) = heard.split_first()?;
    if rest.is_empty() {
        return Some(format!("{} {}", first.0, first.1));
    }
    let mut who: Vec<&str> = Vec::new();
    for (name, _) in &heard {
        if !who.contains(&name.as_str()) {
            who.push(name);
        }
    }
    let names = match who.as_slice() {
        [one] => (*one).to_owned(),
        [init @ .., last] if init.len() < 3 => format!("{} and {last}", init.join(", ")),
        [first, second, ..] => format!("{first}, {second} and {} others", who.len() - 2),
        [] => return None,
    };
    Some(format!("{names} made {} changes", heard.len()))
}

#[derive(Default)]
pub(super) struct Announcer {
    heard: RefCell<Vec<(String, String)>>,
    last: Cell<f64>,
    timer: RefCell<Option<Timeout>>,
}

impl Announcer {
    /// Someone (`who`) did something (`what`). Returns the line to announce
    /// now, if it is time; otherwise sets a timer that calls `later` when it is.
    pub(super) fn heard(&self, who: String, what: String, now: f64, later: impl FnOnce() + 'static) -> Option<String> {
        self.heard.borrow_mut().push((who, what));
        if self.timer.borrow().is_some() {
            return None;
        }
        let wait = self.last.get() + EVERY_MS - now;
        if wait > 0.0 {
            *self.timer.borrow_mut() = Some(Timeout::new(wait.ceil() as u32, later));
            return None;
        }
        self.take(now)
    }

    /// The line for everything heard so far (the timer fired, or it is time).
    pub(super) fn take(&self, now: f64) -> Option<String> {
        self.timer.borrow_mut().take();
        self.last.set(now);
        let heard = std::mem::take(&mut *self.heard.borrow_mut());
        summary(&heard)
    }
}
