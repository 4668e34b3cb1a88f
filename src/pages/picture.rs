//! The board as a picture in the page, rendered on the server: the room's
//! current board as inline SVG (`picture::svg`), shown before the live board
//! starts, with JavaScript off and to crawlers, and a link preview (Open
//! Graph) pointing at its PNG. Server-only: none of it is in the bundle.

use leptos::prelude::*;

/// What a room page shows of the board before it is live.
#[derive(Debug, Clone, Default)]
pub(super) struct Picture {
    pub svg: String,
    /// The PNG's absolute address, for `og:image` (empty if unknown).
    pub image: String,
}

/// The picture of the room `key` names (a token when `view`): `Ok(None)` if
/// it opens no room, `Err` if storage cannot say. Reads the server's state
/// now, in the component, and returns a future for the page's `Suspend`.
pub(super) fn board_picture(
    key: String,
    view: bool,
) -> impl Future<Output = Result<Option<Picture>, ()>> + Send + 'static {
    #[cfg(feature = "ssr")]
    {
        let pages = use_context::<crate::server::PageData>();
        let request = use_context::<axum::http::request::Parts>();
        async move {
            let found = pages.ok_or(())?.picture(key, view, &request.ok_or(())?).await?;
            Ok(found.map(|(svg, image)| Picture { svg, image }))
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (key, view);
        std::future::ready(Err(()))
    }
}

/// The board's SVG, laid over the canvas until the live board has drawn.
#[component]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
pub(super) fn BoardPicture(svg: String) -> impl IntoView {
    view! { <div class="board-picture" inner_html=svg></div> }
}

/// Link-preview tags: a title and the board's PNG.
#[component]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
pub(super) fn Preview(title: String, image: String) -> impl IntoView {
    view! {
        <leptos_meta::Meta property="og:title" content=title />
        <leptos_meta::Meta property="og:type" content="website" />
        <leptos_meta::Meta property="og:image" content=image />
        <leptos_meta::Meta property="og:image:width" content="1200" />
        <leptos_meta::Meta property="og:image:height" content="750" />
    }
}
