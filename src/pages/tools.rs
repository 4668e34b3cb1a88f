//! The room page's toolbars: the row that adds shapes (and takes up the
//! Text tool), rows of plain buttons, and what each button asks the live
//! board to do (`Action`, carried out by the room page).

use leptos::prelude::*;

use crate::board_ui::BoardUi;
use sketchboard_core::model::{Color, ShapeKind, TextSize};

/// The **Add a shape** toolbar: a button per kind the toolbar adds, the
/// **Text** tool (pressed while in hand) and **Delete**.
pub(super) fn add_row(ui: BoardUi, act: impl Fn(Action) + Copy + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="toolbar" role="toolbar" aria-label="Add a shape">
            {ShapeKind::ADDED
                .into_iter()
                .map(|kind| {
                    view! {
                        <button type="button" class="tool" on:click=move |_| act(Action::Add(kind))>
                            <span class=format!("icon {}", kind.css_name()) aria-hidden="true"></span>
                            {kind.label()}
                        </button>
                    }
                })
                .collect_view()}
            <button
                type="button"
                class="tool"
                aria-pressed=move || ui.text_tool.get().to_string()
                on:click=move |_| act(Action::Text)
            >
                <span class="icon text" aria-hidden="true">"T"</span>
                "Text"
            </button>
            <button
                type="button"
                class="tool danger"
                disabled=move || !ui.has_selection.get()
                on:click=move |_| act(Action::DeleteSelected)
            >
                "Delete"
            </button>
        </div>
    }
}

/// A toolbar of plain buttons, each enabled while its signal says so. One
/// function (and a list, not arrays of each length) so every such row costs
/// the bundle once.
pub(super) fn tool_row(
    name: &'static str,
    buttons: Vec<(&'static str, RwSignal<bool>, Action)>,
    act: impl Fn(Action) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="toolbar" role="toolbar" aria-label=name>
            {buttons
                .into_iter()
                .map(|(label, enabled, action)| {
                    view! {
                        <button type="button" class="tool" disabled=move || !enabled.get() on:click=move |_| act(action)>
                            {label}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// What a toolbar button asks the board to do.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(super) enum Action {
    Add(ShapeKind),
    Text,
    DeleteSelected,
    Paint(Color),
    TextSize(TextSize),
    ToFront,
    ToBack,
    Undo,
    Redo,
}
