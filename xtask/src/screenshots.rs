//! `cargo xtask screenshots`: the pictures of the widget in the README and docs, taken from the
//! built playground (`cargo xtask playground`) in headless Chromium through WebDriver, so they
//! always show the widget as it is. Each picture is one slot of the playground's article page in
//! one of core's scenes (put there by the page's own state picker, `Letterbox.playground.show`),
//! light and dark, cut to the slot's host element, into `docs/images/`.
//!
//! The page is served on 127.0.0.1 by this command; nothing is sent anywhere (the scenes send
//! nothing, and `/api/` is forwarded to a closed port).

use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use serde_json::json;

use crate::e2e::{Browser, ELEMENT};
use crate::tools::Tools;
use crate::util::{root, Result};

/// One picture: its file name (without the scheme and `.png`), the slot, the scene, the width of
/// the window.
pub struct Shot {
    pub file: &'static str,
    pub slot: &'static str,
    pub scene: &'static str,
    pub width: u32,
}

/// Every picture, each taken light and dark (`<file>-light.png`, `<file>-dark.png`).
pub const SHOTS: [Shot; 7] = [
    Shot {
        file: "in-article-first",
        slot: "in-article",
        scene: "first",
        width: 1280,
    },
    Shot {
        file: "in-article-errors",
        slot: "in-article",
        scene: "errors",
        width: 1280,
    },
    Shot {
        file: "in-article-confirm",
        slot: "in-article",
        scene: "confirm",
        width: 1280,
    },
    Shot {
        file: "in-article-rate-limited",
        slot: "in-article",
        scene: "rate-limited",
        width: 1280,
    },
    Shot {
        file: "header-suggestion-360",
        slot: "header",
        scene: "suggestion",
        width: 360,
    },
    Shot {
        file: "ukrainian-queued-360",
        slot: "ukrainian-section",
        scene: "queued",
        width: 360,
    },
    Shot {
        file: "footer-themed-first",
        slot: "footer",
        scene: "first",
        width: 1280,
    },
];

/// Where the pictures go.
pub fn images_dir() -> PathBuf {
    root().join("docs/images")
}

/// Builds the playground (unless `build` is false: `--no-build` takes the pictures from the
/// `dist-playground/` already there) and takes every picture.
pub fn run(tools: &Tools, build: bool) -> Result<()> {
    let built = match build {
        true => crate::playground::build(tools)?,
        false => root().join(crate::playground::BUILT_DIR),
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("cannot find a free port: {e}"))?;
    // Nothing listens there: the page's outbox polling fails quietly.
    let server = crate::playground::start(0, &built, &format!("http://{closed}"))?;
    let browser = Browser::start(tools)?;
    let dir = images_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for scheme in ["light", "dark"] {
        for shot in &SHOTS {
            let png = take(&browser, &server.url(), shot, scheme)?;
            let path = dir.join(format!("{}-{scheme}.png", shot.file));
            std::fs::write(&path, &png)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!(
                "screenshots: {} ({} B)",
                path.strip_prefix(root()).unwrap_or(&path).display(),
                png.len()
            );
            written.push(path);
        }
    }
    println!("screenshots: {} pictures in docs/images/", written.len());
    Ok(())
}

/// One picture of `shot` in `scheme`, as PNG bytes.
fn take(b: &Browser, base: &str, shot: &Shot, scheme: &str) -> Result<Vec<u8>> {
    b.viewport(shot.width, 1000)?;
    b.open(&format!("{base}/?state={}&scheme={scheme}", shot.scene))?;
    b.wait(
        &format!("the playground to show {:?}", shot.scene),
        &format!(
            "document.documentElement.dataset.pgShown === {:?}",
            shot.scene
        ),
    )?;
    // A slot far below the fold mounts when it comes near (and takes the state then).
    b.script(&format!(
        "document.getElementById({:?}).scrollIntoView({{block: 'center'}});",
        shot.slot
    ))?;
    b.wait(
        &format!("#{} to mount", shot.slot),
        &format!(
            "(h => h.shadowRoot && h.shadowRoot.querySelector('.lb-root'))(document.getElementById({:?}))",
            shot.slot
        ),
    )?;
    // Leptos renders after the current task; give the page a moment to settle.
    thread::sleep(Duration::from_millis(500));
    let host = b.call(
        "POST",
        "/element",
        Some(json!({"using": "css selector", "value": format!("#{}", shot.slot)})),
    )?;
    let host = host[ELEMENT]
        .as_str()
        .ok_or_else(|| format!("no #{} on the playground page", shot.slot))?
        .to_owned();
    let picture = b.call("GET", &format!("/element/{host}/screenshot"), None)?;
    let encoded = picture.as_str().ok_or("WebDriver gave no screenshot")?;
    decode_base64(encoded)
}

/// Standard base64 (with padding), as WebDriver sends screenshots.
fn decode_base64(text: &str) -> Result<Vec<u8>> {
    let value = |c: u8| -> Result<u32> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("not base64: {:?}", c as char)),
        } as u32)
    };
    let clean: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let body = clean
        .strip_suffix(b"==")
        .or_else(|| clean.strip_suffix(b"="))
        .unwrap_or(&clean);
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_every_remainder() {
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("Zg==").unwrap(), b"f");
        assert_eq!(decode_base64("Zm8=").unwrap(), b"fo");
        assert_eq!(decode_base64("Zm9v").unwrap(), b"foo");
        assert_eq!(decode_base64("Zm9vYmFy\n").unwrap(), b"foobar");
        assert!(decode_base64("Zm9v!").is_err());
    }

    #[test]
    fn every_picture_is_a_scene_the_playground_knows_and_a_slot_of_its_page() {
        let index = std::fs::read_to_string(root().join("index.html")).unwrap();
        for shot in &SHOTS {
            assert!(
                letterbox_core::slot::scenes::Scene::from_name(shot.scene).is_some(),
                "{}",
                shot.scene
            );
            assert!(
                index.contains(&format!("id=\"{}\"", shot.slot)),
                "{}",
                shot.slot
            );
        }
    }
}
