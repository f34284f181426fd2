//! Checks addresses with Letterbox's email rule, one per line:
//!
//! ```text
//! printf 'Jane@München.de\njane@gmail\n' | cargo run -p letterbox-core --example check-email
//! ok Jane@xn--mnchen-3ya.de
//! err domain_incomplete
//! ```
//!
//! Input is read as bytes: a line that is not UTF-8 prints `err invalid_utf8`. The line end (`\n`
//! or `\r\n`) is removed; any other surrounding whitespace is trimmed by the rule itself. A closed
//! stdout (`| head`) ends the program quietly.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use std::io::ErrorKind;
    use std::process::ExitCode;

    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("check-email: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn run() -> std::io::Result<()> {
    use letterbox_core::email::{parse_email, Uts46};
    use std::io::{BufRead, BufWriter, Write};

    let mut input = std::io::stdin().lock();
    let mut output = BufWriter::new(std::io::stdout().lock());
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        match std::str::from_utf8(&line) {
            Err(_) => writeln!(output, "err invalid_utf8")?,
            Ok(text) => match parse_email(text, &Uts46) {
                Ok(email) => writeln!(output, "ok {email}")?,
                Err(error) => writeln!(output, "err {}", error.code())?,
            },
        }
    }
    output.flush()
}

/// The example needs native IDN conversion; there is nothing to run in the browser.
#[cfg(target_arch = "wasm32")]
fn main() {}
