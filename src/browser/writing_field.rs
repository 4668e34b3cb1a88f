//! The text field laid over a shape being written in: a real `<textarea>`,
//! so the system's input methods, selection, copy and paste and screen
//! readers all work. It is placed, sized and turned over the shape each
//! frame. What it shows comes from the editor (`Editor::field_text`), which
//! keeps the caret by the same letters when someone else's change the text.

use std::cell::Cell;

use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, HtmlTextAreaElement};

use sketchboard_core::editor::FieldText;
use sketchboard_core::lettering::{PAD, ink};
use sketchboard_core::model::Shape;
use sketchboard_core::model::text::MAX_TEXT;

pub(super) struct WritingField {
    el: HtmlTextAreaElement,
    /// An input method is composing: the field's value is not final yet.
    pub(super) composing: Cell<bool>,
    /// Where it was last placed (hundredths of pixels and degrees, its ink,
    /// whether it wraps): a frame that moves nothing writes no style.
    placed: Cell<Option<([i64; 7], &'static str, bool)>>,
}

impl WritingField {
    /// A hidden field beside `canvas`, in its positioned parent.
    pub(super) fn new(canvas: &HtmlCanvasElement) -> Option<WritingField> {
        let document = web_sys::window()?.document()?;
        let el = document.create_element("textarea").ok()?.dyn_into::<HtmlTextAreaElement>().ok()?;
        el.set_class_name("writing");
        let _ = el.set_attribute("aria-label", "Text");
        el.set_max_length(MAX_TEXT as i32);
        el.set_hidden(true);
        canvas.parent_element()?.append_child(&el).ok()?;
        Some(WritingField { el, composing: Cell::new(false), placed: Cell::new(None) })
    }

    pub(super) fn element(&self) -> &HtmlTextAreaElement {
        &self.el
    }

    pub(super) fn value(&self) -> String {
        self.el.value()
    }

    /// The selection's ends, in characters.
    pub(super) fn selection(&self) -> (usize, usize) {
        let value = self.el.value();
        let at = |units: Option<u32>| utf16_to_chars(&value, units.unwrap_or(0) as usize);
        (at(self.el.selection_start().ok().flatten()), at(self.el.selection_end().ok().flatten()))
    }

    /// Places the field over `shape`, its corner at (`left`, `top`) CSS
    /// pixels from the canvas's and `k` CSS pixels to a board unit: its
    /// margin and font scaled as the canvas draws them, in the text's ink,
    /// its lines wrapped as the canvas wraps them (a text box's: never).
    pub(super) fn place(&self, shape: &Shape, (left, top, k): (f64, f64, f64)) {
        // Hundredths of a pixel: the font and margin as the canvas has them, at any zoom.
        let units = [left, top, shape.w * k, shape.h * k, shape.text_size.units() * k, PAD * k, shape.rotation];
        let [left, top, w, h, font, pad, turn] = units.map(|v| (v * 100.0).round() as i64);
        let placed = ([left, top, w, h, font, pad, turn], ink(shape), shape.kind.has_body());
        if self.placed.replace(Some(placed)) == Some(placed) {
            return;
        }
        let style = self.el.style();
        let sizes = [("left", left), ("top", top), ("width", w), ("height", h), ("font-size", font), ("padding", pad)];
        for (name, px) in sizes {
            let _ = style.set_property(name, &format!("{}px", hundredths(px)));
        }
        let _ = style.set_property("transform", &format!("rotate({}deg)", hundredths(turn)));
        let _ = style.set_property("color", placed.1);
        let _ = style.set_property("white-space", if placed.2 { "pre-wrap" } else { "pre" });
    }

    /// Shows `text`, with its selection.
    pub(super) fn set(&self, text: &FieldText) {
        self.el.set_value(&text.value);
        let at = |chars: usize| chars_to_utf16(&text.value, chars) as u32;
        let _ = self.el.set_selection_range(at(text.start), at(text.end));
    }

    /// Shows the field and gives it the focus, the caret after the last
    /// letter (as in a text editor); gives the focus back if the board took
    /// it (a tap's late focus change).
    pub(super) fn reveal(&self) {
        if self.el.hidden() {
            self.el.set_hidden(false);
            let _ = self.el.focus();
            let end = self.el.value().encode_utf16().count() as u32;
            let _ = self.el.set_selection_range(end, end);
        } else if board_has_focus() {
            let _ = self.el.focus();
        }
    }

    pub(super) fn hide(&self) {
        if !self.el.hidden() {
            self.el.set_hidden(true);
            self.el.set_value("");
            self.composing.set(false);
            self.placed.set(None);
        }
    }
}

/// Whether the board (the canvas) has the focus. `activeElement` is read by
/// name: a binding of its own would cost the bundle more.
fn board_has_focus() -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return false };
    let active = js_sys::Reflect::get(&document, &"activeElement".into()).ok();
    active.and_then(|a| a.dyn_into::<web_sys::Element>().ok()).is_some_and(|a| a.tag_name() == "CANVAS")
}

/// `n` hundredths as a CSS number ("12.50", "-3.07"), without float formatting.
fn hundredths(n: i64) -> String {
    let (sign, n) = if n < 0 { ("-", -n) } else { ("", n) };
    format!("{sign}{}.{:02}", n / 100, n % 100)
}

/// How many characters the first `units` UTF-16 code units of `s` hold (a
/// text field counts in UTF-16; letters here are Unicode scalar values).
fn utf16_to_chars(s: &str, units: usize) -> usize {
    let mut seen = 0;
    s.chars()
        .take_while(|c| {
            seen += c.len_utf16();
            seen <= units
        })
        .count()
}

/// The UTF-16 length of the first `chars` characters of `s`.
fn chars_to_utf16(s: &str, chars: usize) -> usize {
    s.chars().take(chars).map(char::len_utf16).sum()
}
