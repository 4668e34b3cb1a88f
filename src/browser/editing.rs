//! The live board's user side, as glue: each `Input` goes to the shared
//! editor (`sketchboard_core::editor`, where the editing rules live and are tested), and
//! what the editor submits goes through the tab's `Session` (applied at once,
//! sent when connected, kept across a reload). The toolbar's commands are here
//! too, for the room page.
//!
//! A view-only board and a version from history are only looked at: their
//! editing inputs never reach the editor.

use sketchboard_core::editor::{Dirty, Document, Editor, Handle, Held, Stack, ToolKind, keys};
use sketchboard_core::model::{Board, Change, Color, ShapeKind, TextSize};
use sketchboard_core::protocol::{ClientMsg, ErrorCode};
use sketchboard_core::session::Session;

use super::canvas::Canvas;
use super::clipboard::LocalClipboard;
use super::input::Input;
use super::live_board::LiveBoard;

/// The tab's session as the editor's document: a change is applied and
/// numbered by the session, what it says to send is collected (and sent once
/// the editor is done), and the canvas notes what to repaint.
struct Tab<'a> {
    session: &'a mut Session,
    canvas: &'a Canvas,
    outgoing: Vec<ClientMsg>,
    submitted: bool,
}

impl Document for Tab<'_> {
    fn view(&self) -> &Board {
        self.session.view()
    }

    fn submit(&mut self, change: Change) -> bool {
        let made = match self.session.change(change.clone()) {
            Ok(made) => made,
            Err(e) => {
                // The code, not the sentence: the refusals' wording stays out of the bundle.
                leptos::logging::warn!("change not applied: {}", ErrorCode::for_change_error(&e).as_str());
                return false;
            }
        };
        match &change {
            Change::Move { id, .. } | Change::Resize { id, .. } | Change::Rotate { id, .. } => self.canvas.moved(id),
            _ => self.canvas.changed(),
        }
        self.outgoing.extend(made.send);
        self.submitted = true;
        true
    }
}

impl LiveBoard {
    /// Runs `f` on the editor over this tab's session; then keeps and sends
    /// what it submitted, keeps the undo history if it changed, and asks for
    /// a frame if anything shown may have.
    pub(super) fn edit<R>(&self, f: impl FnOnce(&mut Editor, &mut dyn Document) -> R) -> R {
        let (result, outgoing, submitted, dirty) = {
            let mut session = self.session.borrow_mut();
            let mut editor = self.editor.borrow_mut();
            let mut tab = Tab { session: &mut session, canvas: &self.canvas, outgoing: Vec::new(), submitted: false };
            let result = f(&mut editor, &mut tab);
            (result, tab.outgoing, tab.submitted, editor.take_dirty())
        };
        self.after_edit(outgoing, submitted, dirty);
        result
    }

    /// What follows every edit, once in the bundle rather than in each of
    /// `edit`'s copies.
    #[inline(never)]
    fn after_edit(&self, outgoing: Vec<ClientMsg>, submitted: bool, dirty: Dirty) {
        if submitted {
            // Unconfirmed changes survive a reload of the tab.
            self.save();
        }
        for msg in outgoing {
            self.connection.send(msg.to_json());
        }
        if dirty.history {
            self.save_history();
        }
        if submitted || dirty.redraw {
            self.invalidate();
        }
    }

    /// Adds a shape of `kind` at a free spot, in the colour last chosen, on
    /// top of everything, and selects it.
    pub(crate) fn add_shape(&self, kind: ShapeKind) {
        self.edit(|e, doc| e.add_shape(doc, kind));
    }

    /// Takes up the Text tool: the next click on the board writes there.
    pub(crate) fn take_text_tool(&self) {
        self.edit(|e, _| e.choose_tool(ToolKind::Text));
        let _ = self.canvas.element().focus();
    }

    /// Deletes the selection; returns whether there was one.
    pub(crate) fn delete_selected(&self) -> bool {
        self.edit(|e, doc| e.delete_selected(doc))
    }

    /// Chooses the colour for new shapes, and gives it to the selection.
    pub(crate) fn set_color(&self, color: Color) {
        self.edit(|e, doc| e.paint(doc, color));
    }

    /// Gives the selection's text a size.
    pub(crate) fn set_text_size(&self, size: TextSize) {
        self.edit(|e, doc| e.size_text(doc, size));
    }

    /// Brings the selection to the front, or sends it to the back.
    pub(crate) fn restack(&self, to: Stack) -> bool {
        self.edit(|e, doc| e.restack(doc, to))
    }

    /// Undoes this tab's last step; whether there was one.
    pub(crate) fn undo(&self) -> bool {
        self.edit(|e, doc| e.undo(doc))
    }

    /// Redoes the last undone step; whether there was one.
    pub(crate) fn redo(&self) -> bool {
        self.edit(|e, doc| e.redo(doc))
    }

    pub(super) fn on_input(&self, input: Input) -> bool {
        // A view-only board may be looked at (zoomed, pointed at), never edited.
        // A version from history is only looked at: not even pointed at
        // (others would see a pointer over a board they do not have).
        let looking = matches!(
            input,
            Input::PointerMove { .. }
                | Input::PointerLeave
                | Input::Pinch { .. }
                | Input::Resized
                | Input::Network(_)
                | Input::StopWriting { .. }
                | Input::FieldToBoard
        );
        let shown = matches!(
            input,
            Input::Pinch { .. } | Input::Resized | Input::Network(_) | Input::StopWriting { .. } | Input::FieldToBoard
        );
        let blocked = (self.view_only && !looking) || (self.looking_at_history() && !shown);
        match input {
            Input::Key(press) => {
                let Some(binding) = keys::map(&press) else { return false };
                let handled = !blocked
                    && self.edit(|e, doc| e.run(doc, binding.command, js_sys::Date::now(), &mut LocalClipboard));
                if handled && binding.command == keys::Command::Write {
                    // The field takes the focus now, not at the next frame: the next key is already its.
                    self.update_field();
                }
                binding.claims(handled)
            }
            _ if blocked => false,
            Input::Press { x, y, add } => {
                let (x, y) = self.canvas.under(x, y);
                self.edit(|e, doc| e.pointer_down(doc, x, y, add))
            }
            Input::PointerMove { x, y, shift, alt } => {
                let (x, y) = self.canvas.under(x, y);
                self.presence.pointer(Some((x, y)));
                self.flush_presence();
                self.editor.borrow_mut().hold(Held { shift, alt });
                let (handle, text) = {
                    let editor = self.editor.borrow();
                    let text = editor.tool() == ToolKind::Text;
                    let handle = if editor.pressing() || text {
                        None
                    } else {
                        editor.handle_at(self.session.borrow().view(), x, y)
                    };
                    (handle, text)
                };
                let over = self.edit(|e, doc| e.pointer_move(doc, x, y));
                self.canvas.set_cursor(match handle {
                    Some(handle) => cursor_for(handle),
                    None if text => "text",
                    None if over => "move",
                    None => "default",
                });
                over
            }
            Input::Pinch { from, to, ratio } => {
                self.canvas.pinch(from, to, ratio);
                self.invalidate();
                true
            }
            Input::PointerLeave => {
                self.presence.pointer(None);
                self.flush_presence();
                false
            }
            Input::Release => {
                let was = self.editor.borrow().writing().cloned();
                self.edit(|e, doc| e.pointer_up(doc));
                if self.editor.borrow().writing().is_some_and(|id| Some(id) != was.as_ref()) {
                    // A click of the Text tool: the field takes the focus now, for the next key.
                    self.update_field();
                }
                false
            }
            Input::Cancel => {
                // A press on empty board that turned into a pinch selects nothing, clears nothing.
                self.edit(|e, doc| e.pointer_cancel(doc));
                false
            }
            Input::Resized => {
                self.canvas.fit();
                self.invalidate();
                false
            }
            Input::Network(event) => {
                self.connection.network_changed(event);
                false
            }
            Input::DoubleClick { x, y } => {
                // On a shape, writes in it; on empty board, starts a text box there.
                let (x, y) = self.canvas.under(x, y);
                let started = self.edit(|e, doc| e.double_click(doc, x, y));
                if started {
                    self.update_field();
                }
                started
            }
            Input::Typed { composing } => self.typed(composing),
            Input::FieldToBoard => {
                // Still writing (a tap's late focus change): the field takes the focus back next frame.
                self.invalidate();
                false
            }
            Input::StopWriting { to_board } => {
                self.edit(|e, doc| e.stop_writing(doc));
                if to_board {
                    let _ = self.canvas.element().focus();
                }
                self.invalidate();
                false
            }
        }
    }
}

impl LiveBoard {
    /// The text field changed: what was typed goes to the shape (once an
    /// input method has finished composing it).
    fn typed(&self, composing: bool) -> bool {
        let Some(field) = &self.field else { return false };
        field.composing.set(composing);
        if composing {
            return false;
        }
        let value = field.value();
        let done = self.edit(|e, doc| e.typed(doc, &value, js_sys::Date::now()));
        self.invalidate();
        done
    }
}

/// The cursor over a handle: a double arrow along the way it resizes (as
/// drawn upright), or a grab for the rotation handle.
fn cursor_for(handle: Handle) -> &'static str {
    match handle {
        Handle::Rotate => "grab",
        Handle::Resize { fx: 0.5, .. } => "ns-resize",
        Handle::Resize { fy: 0.5, .. } => "ew-resize",
        Handle::Resize { fx, fy } if fx == fy => "nwse-resize",
        Handle::Resize { .. } => "nesw-resize",
    }
}
