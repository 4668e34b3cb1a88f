//! The feed on its own: order, who reads what, trimming, waiting, lagging.
#![allow(clippy::unwrap_used)] // tests unwrap what must hold

use super::*;

fn text(s: &str) -> Frame {
    Frame::from(s.to_owned())
}

fn messages(read: Read) -> Vec<String> {
    match read {
        Read::Messages(m) => m.iter().map(|t| t.as_str().to_owned()).collect(),
        other => panic!("expected messages, got {other:?}"),
    }
}

#[tokio::test]
async fn each_member_reads_what_is_for_it_in_order() {
    let feed = Feed::new(Deliveries::default());
    let (mut a, mut b) = (feed.cursor(ConnId(1)), feed.cursor(ConnId(2)));
    feed.push(To::All, text("p1"));
    feed.push(To::AllWithOwnCopy { author: ConnId(1), own: text("c1-own") }, text("c1"));
    feed.push(To::One(ConnId(2)), text("refused"));
    assert_eq!(messages(a.read(10).await), ["p1", "c1-own"]);
    assert_eq!(messages(b.read(2).await), ["p1", "c1"]);
    assert_eq!(messages(b.read(10).await), ["refused"]);
    // A late reader starts at the end.
    let mut late = feed.cursor(ConnId(3));
    feed.push(To::All, text("p2"));
    assert_eq!(messages(late.read(10).await), ["p2"]);
}

#[tokio::test]
async fn the_feed_keeps_only_what_someone_has_yet_to_read() {
    let feed = Feed::new(Deliveries::default());
    let (mut fast, mut slow) = (feed.cursor(ConnId(1)), feed.cursor(ConnId(2)));
    for i in 0..TRIM_EVERY * 2 {
        feed.push(To::All, text(&i.to_string()));
        let _ = fast.read(1).await;
    }
    assert_eq!(feed.lock().entries.len() as u64, TRIM_EVERY * 2, "the slow reader has read nothing");
    while let Read::Messages(_) =
        tokio::time::timeout(Duration::from_millis(10), slow.read(1000)).await.unwrap_or(Read::Closed)
    {}
    drop(slow);
    for i in 0..TRIM_EVERY {
        feed.push(To::All, text(&i.to_string()));
        let _ = fast.read(100).await;
    }
    assert!(feed.lock().entries.len() < TRIM_EVERY as usize, "read by all (and a reader gone): let go");
}

#[tokio::test]
async fn a_reader_waits_for_the_next_entry() {
    let feed = Feed::new(Deliveries::default());
    let mut a = feed.cursor(ConnId(1));
    let waiting = tokio::spawn(async move { messages(a.read(10).await) });
    tokio::task::yield_now().await;
    feed.push(To::All, text("late"));
    assert_eq!(waiting.await.unwrap(), ["late"]);
}

#[tokio::test]
async fn a_reader_behind_what_is_kept_has_lost_its_place_but_got_a_gapless_prefix() {
    let feed = Feed::new(Deliveries::default());
    let mut slow = feed.cursor(ConnId(1));
    feed.push(To::All, text("0"));
    assert_eq!(messages(slow.read(1).await), ["0"]);
    for i in 1..=MAX_ENTRIES + 1 {
        feed.push(To::All, text(&i.to_string()));
    }
    assert!(matches!(slow.read(10).await, Read::Lagged));
    feed.close();
    let mut last = feed.cursor(ConnId(2));
    assert!(matches!(last.read(10).await, Read::Closed));
}
