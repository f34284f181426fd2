//! Minifies `style/letterbox.css` into `$OUT_DIR/letterbox.min.css`, which the widget embeds and
//! applies inside each shadow root: comments go, whitespace runs fold to one space, and the
//! spaces around `{`, `}` and `;` go. (Descendant-selector spaces and `:` are left alone.)

use std::path::PathBuf;

fn minify(css: &str) -> String {
    let mut no_comments = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        no_comments.push_str(&rest[..start]);
        rest = rest[start + 2..]
            .find("*/")
            .map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    no_comments.push_str(rest);
    let folded = no_comments.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(folded.len());
    let chars: Vec<char> = folded.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let prev = out.chars().last();
        if c == ' '
            && (matches!(next, Some('{' | '}' | ';')) || matches!(prev, Some('{' | '}' | ';')))
        {
            continue;
        }
        out.push(c);
    }
    out
}

fn main() {
    println!("cargo:rerun-if-changed=style/letterbox.css");
    let css =
        std::fs::read_to_string("style/letterbox.css").expect("style/letterbox.css is readable");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("letterbox.min.css");
    std::fs::write(out, minify(&css)).expect("OUT_DIR is writable");
}
