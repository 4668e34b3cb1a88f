//! The board's pictures (`/r/{room}.svg`, `.png`, `.json`): what they show,
//! and how they hold when everyone asks at once: one drawing per board state,
//! a bounded queue for the rest, answered before anything is loaded.

use serde_json::json;
use sketchboard::server::RENDERS_WAITING;

use crate::common::{Client, TestServer, eventually, http_get, http_get_bytes, metric};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_boards_svg_and_png_show_its_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "pic", "alice").await;
    alice.create("c", "circle", 100.0, 100.0).await; // green, centre (160, 160)
    alice.create("r", "rectangle", 800.0, 500.0).await;
    let op = alice.change(json!({"op": "color", "id": "r", "color": "red"})).await; // centre (880, 550)
    alice.confirmed(op).await;
    // Its text too, as text: what was written never becomes markup.
    let op = alice.change(json!({"op": "write", "id": "r", "after": null, "at": [7, 0], "text": "<i>Go</i>"})).await;
    alice.confirmed(op).await;

    let (status, head, svg) = http_get(server.addr, "/r/pic.svg").await;
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("content-type: image/svg+xml"), "{head}");
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
    assert_eq!(svg.matches("<ellipse").count(), 1);
    assert!(svg.contains("<ellipse cx=\"160\" cy=\"160\" rx=\"60\" ry=\"60\" fill=\"#b2f2bb\""), "{svg}");
    assert!(svg.contains("<rect x=\"800\" y=\"500\" width=\"160\" height=\"100\" fill=\"#ffc9c9\""), "{svg}");
    assert!(svg.contains("<tspan x=\"880\" y=\"550\">&lt;i&gt;Go&lt;/i&gt;</tspan>"), "{svg}");
    assert!(!svg.contains("<i>"), "{svg}");

    let (status, head, png) = http_get_bytes(server.addr, "/r/pic.png", &server.addr.to_string(), "").await;
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("content-type: image/png"), "{head}");
    let image = tiny_skia::Pixmap::decode_png(&png).expect("a PNG");
    assert_eq!((image.width(), image.height()), (1200, 750));
    let at = |x: f64, y: f64| {
        let p = image.pixel((x * 0.75) as u32, (y * 0.75) as u32).unwrap();
        (p.red(), p.green(), p.blue())
    };
    assert_eq!(at(160.0, 160.0), (0xb2, 0xf2, 0xbb), "the circle's fill at its centre");
    assert_eq!(at(880.0, 520.0), (0xff, 0xc9, 0xc9), "the red rectangle's fill, above its text");
    // Its text, in ink, across its middle (and only there).
    let inked = |y0: f64, y1: f64| {
        let spots = (800..960).flat_map(|x| (y0 as u32..y1 as u32).map(move |y| (f64::from(x), f64::from(y))));
        spots
            .filter(|&(x, y)| {
                let (r, g, b) = at(x, y);
                r < 0x60 && g < 0x60 && b < 0x60
            })
            .count()
    };
    assert!(inked(538.0, 562.0) > 40, "the text is drawn: {}", inked(538.0, 562.0));
    assert_eq!(inked(502.0, 530.0) + inked(570.0, 598.0), 0, "and nothing above or below it");
    assert_eq!(at(1450.0, 150.0), (0xff, 0xff, 0xff), "empty board");
    assert_eq!(http_get(server.addr, "/r/bad.name.png").await.0, 400, "an invalid name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_page_leaves_out_what_cannot_be_seen_and_the_svg_file_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "hid", "alice").await;
    // A circle, then four overlapping rectangles over all of it.
    alice.create("c", "circle", 120.0, 70.0).await;
    let mut last = 0;
    for (i, (x, y)) in [(40.0, 40.0), (160.0, 40.0), (40.0, 120.0), (160.0, 120.0)].into_iter().enumerate() {
        last = alice.create(&format!("r{i}"), "rectangle", x, y).await;
    }
    alice.confirmed(last).await;
    let (status, _, page) = http_get(server.addr, "/r/hid").await;
    assert_eq!(status, 200);
    assert!(page.contains("aria-label=\"The board: 5 shapes\""), "{page}");
    assert_eq!((page.matches("<rect x=").count(), page.matches("<ellipse").count()), (4, 0), "{page}");
    let (_, _, file) = http_get(server.addr, "/r/hid.svg").await;
    assert_eq!((file.matches("<rect x=").count(), file.matches("<ellipse").count()), (4, 1), "{file}");
}

/// A link posted in a busy chat: every preview bot asks for the large PNG
/// at once. One drawing serves them all, and the picture of a board that
/// did not change is not drawn again; a change makes a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_drawing_serves_everyone_asking_for_the_same_board() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (mut alice, _) = Client::join(&server, "bots", "alice").await;
    let op = alice.create("c", "circle", 100.0, 100.0).await;
    alice.confirmed(op).await;
    let host = server.addr.to_string();
    let asks = (0..60).map(|_| http_get_bytes(server.addr, "/r/bots.png?scale=2", &host, ""));
    let answers = futures_util::future::join_all(asks).await;
    assert!(answers.iter().all(|(status, ..)| *status == 200), "every bot has it: {:?}", answers[0].0);
    assert!(answers.windows(2).all(|w| w[0].2 == w[1].2), "one picture");
    let image = tiny_skia::Pixmap::decode_png(&answers[0].2).expect("a PNG");
    assert_eq!((image.width(), image.height()), (3200, 2000));
    let drawn = r#"sketchboard_pictures_total{why="drawn"}"#;
    assert_eq!(metric(server.addr, drawn).await, 1.0, "drawn once");
    assert_eq!(http_get_bytes(server.addr, "/r/bots.png?scale=2", &host, "").await.0, 200);
    assert_eq!(metric(server.addr, drawn).await, 1.0, "and not again for the same board");
    let op = alice.move_to("c", 400.0, 300.0).await;
    alice.confirmed(op).await;
    let (status, _, moved) = http_get_bytes(server.addr, "/r/bots.png?scale=2", &host, "").await;
    assert_eq!((status, metric(server.addr, drawn).await), (200, 2.0), "a change makes a new one");
    assert_ne!(moved, answers[0].2);
}

/// Pictures of many different boards at once: each waits for a turn before
/// its board is loaded, a bounded number wait, and the rest are told at once
/// to come back (`Retry-After`): SVGs and board files as well as PNGs. A
/// picture drawn before is served all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pictures_of_many_boards_wait_their_turn_and_the_rest_come_back_later() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    const ROOMS: usize = 48;
    for r in 0..=ROOMS {
        // Boards big enough that drawing one takes a while (300 shapes).
        let (mut c, _) = Client::join(&server, &format!("b{r}"), "alice").await;
        let changes: Vec<_> = (0..300)
            .map(
                |i| json!({"op": "create", "shape": {"id": format!("s{i}"), "kind": "circle", "x": i * 4, "y": i * 2}}),
            )
            .collect();
        let op = c.change(json!({"op": "batch", "changes": changes})).await;
        c.confirmed(op).await;
    }
    let (status, _, before) = http_get(server.addr, &format!("/r/b{ROOMS}.svg")).await;
    assert_eq!(status, 200);
    let host = server.addr.to_string();
    let asks = (0..ROOMS).map(|r| {
        let path = match r % 3 {
            0 => format!("/r/b{r}.png?scale=2"),
            1 => format!("/r/b{r}.svg"),
            _ => format!("/r/b{r}.json"),
        };
        let host = host.clone();
        let addr = server.addr;
        tokio::spawn(async move { http_get_bytes(addr, &path, &host, "").await })
    });
    let asks: Vec<_> = asks.collect();
    // While the queue is full, a picture drawn before is still served.
    let full = || async {
        (metric(server.addr, "sketchboard_pictures_waiting").await >= RENDERS_WAITING as f64).then_some(())
    };
    eventually("the queue fills", std::time::Duration::from_millis(2), full).await;
    let (status, _, again) = http_get(server.addr, &format!("/r/b{ROOMS}.svg")).await;
    assert_eq!((status, again == before), (200, true), "kept");
    let mut answers = Vec::new();
    for ask in asks {
        answers.push(ask.await.unwrap());
    }
    let busy: Vec<&String> = answers.iter().filter(|(s, ..)| *s == 503).map(|(_, head, _)| head).collect();
    let drawn = answers.iter().filter(|(s, ..)| *s == 200).count();
    assert_eq!(drawn + busy.len(), ROOMS, "every answer is a picture or 'come back'");
    // Asks that finish before the last ones arrive make room for a few more
    // (the 48 do not reach the server at one instant): most past the queue,
    // not all, are turned away. Seen: 28 to 30 of 48.
    assert!(busy.len() >= ROOMS / 4, "past the queue: {} of {ROOMS} drawn", drawn);
    assert!(busy.iter().all(|head| head.to_ascii_lowercase().contains("retry-after: 2")), "{:?}", busy[0]);
    let kinds = |r: usize| answers[r].0 == 503;
    assert!((0..ROOMS).any(|r| r % 3 == 1 && kinds(r)), "SVGs are refused too");
    assert!((0..ROOMS).any(|r| r % 3 == 2 && kinds(r)), "and board files");
    // The queue lets go: the next ask is answered.
    assert_eq!(http_get(server.addr, "/r/b1.svg").await.0, 200);
}
