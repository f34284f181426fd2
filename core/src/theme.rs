//! How a slot looks on its page: the site's `theme` choice (`data-theme` or the `theme` key) and
//! the colour scheme that follows from it and from the host page.
//!
//! By default a slot follows the page it sits in, not the reader's operating system: a light
//! article stays light for a reader whose system is dark, and a dark page (one that declares
//! `color-scheme: dark` or `light dark` and is dark now, or simply has light text, such as a
//! themed footer) gets the dark colours. The widget reads the host element's computed
//! `color-scheme` and `color` and passes them here as plain text.
//!
//! ```
//! use letterbox_core::theme::{Scheme, Theme};
//! let theme = Theme::parse("auto").unwrap();
//! // A light page: dark text, no colour scheme declared.
//! assert_eq!(theme.scheme("normal", "rgb(11, 12, 12)"), Scheme::Light);
//! // A page that supports both schemes and is dark now (its text is light).
//! assert_eq!(theme.scheme("light dark", "rgb(240, 240, 240)"), Scheme::Dark);
//! assert_eq!(Theme::parse("dark boxed").unwrap().scheme("normal", "rgb(0, 0, 0)"), Scheme::Dark);
//! ```

/// The words `theme` takes.
pub const THEME_WORDS: &[&str] = &["auto", "light", "dark", "boxed"];

/// A slot's colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// Dark text on a light background.
    #[default]
    Light,
    /// Light text on a dark background.
    Dark,
}

/// The site's choice for a slot (`data-theme="…"` or `"theme": "…"`): space-separated words,
/// at most one colour word (`auto`, the default: follow the page; `light`; `dark`) and
/// optionally `boxed` (the form drawn as a card with its own background and padding, instead
/// of the default that sits in the page's text column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Theme {
    /// `None`: follow the page.
    pub scheme: Option<Scheme>,
    /// The boxed card.
    pub boxed: bool,
}

impl Theme {
    /// Reads the site's words; `Err` names the word that is not a theme word (or a second
    /// colour word).
    pub fn parse(text: &str) -> Result<Theme, String> {
        let mut theme = Theme::default();
        let mut colour = false;
        for word in text.split_whitespace() {
            let scheme = match word.to_ascii_lowercase().as_str() {
                "auto" => None,
                "light" => Some(Scheme::Light),
                "dark" => Some(Scheme::Dark),
                "boxed" => {
                    theme.boxed = true;
                    continue;
                }
                _ => return Err(word.to_owned()),
            };
            if colour {
                return Err(word.to_owned());
            }
            colour = true;
            theme.scheme = scheme;
        }
        Ok(theme)
    }

    /// The scheme a slot uses on a host whose computed `color-scheme` is `color_scheme` and
    /// whose computed text colour is `color` (`rgb(…)`/`rgba(…)`, as `getComputedStyle` gives
    /// them). The text colour says whether the page is dark where the slot is; when it cannot
    /// be read, a page that declares only `dark` is dark.
    pub fn scheme(self, color_scheme: &str, color: &str) -> Scheme {
        if let Some(scheme) = self.scheme {
            return scheme;
        }
        match luminance(color) {
            Some(l) if l > 0.5 => Scheme::Dark,
            Some(_) => Scheme::Light,
            None => {
                let mut words = color_scheme.split_whitespace();
                if words.clone().any(|w| w == "dark") && !words.any(|w| w == "light") {
                    Scheme::Dark
                } else {
                    Scheme::Light
                }
            }
        }
    }
}

/// The relative luminance (0 black … 1 white, WCAG's formula, with the sRGB curve's power of 2.4
/// built from square roots, within 0.1% of the exact value) of a CSS
/// `rgb()`/`rgba()` colour with whole-number channels, as browsers serialise computed values;
/// `None` for anything else or a fully transparent colour.
pub fn luminance(color: &str) -> Option<f32> {
    let color = color.trim();
    let inner = color
        .strip_prefix("rgba(")
        .or_else(|| color.strip_prefix("rgb("))?
        .strip_suffix(')')?;
    let mut parts = inner.split([',', ' ', '/']).filter(|p| !p.is_empty());
    let mut channel = || -> Option<f32> {
        let c = f32::from(parts.next()?.parse::<u8>().ok()?) / 255.0;
        Some(if c <= 0.04045 {
            c / 12.92
        } else {
            let x = (c + 0.055) / 1.055;
            // x^2.4 as 0.8 x^2.375 + 0.2 x^2.5: square roots only, within 0.1%.
            let root4 = x.sqrt().sqrt();
            x * x * (0.8 * root4 * root4.sqrt() + 0.2 * x.sqrt())
        })
    };
    let (r, g, b) = (channel()?, channel()?, channel()?);
    if parts
        .next()
        .is_some_and(|alpha| alpha.trim_end_matches(['0', '.']).is_empty())
    {
        return None;
    }
    Some(0.2126 * r + 0.7152 * g + 0.0722 * b)
}

/// The contrast ratio (1–21) of two relative luminances.
pub fn contrast(a: f32, b: f32) -> f32 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    (hi + 0.05) / (lo + 0.05)
}

/// WCAG's least contrast for text (AA, normal size).
pub const MIN_CONTRAST: f32 = 4.5;

/// The site's colour pairs `(what, text colour, background colour)` (computed `rgb()` values)
/// that fall below [`MIN_CONTRAST`], named with their ratios for one console warning
/// (`button label 3.2:1`); `None` when every readable pair passes (a colour that cannot be read
/// is not judged).
///
/// ```
/// use letterbox_core::theme::low_contrast;
/// assert_eq!(low_contrast(&[("text", "rgb(0, 0, 0)", "rgb(255, 255, 255)")]), None);
/// let warning = low_contrast(&[("button label", "rgb(255, 255, 255)", "rgb(153, 204, 255)")]);
/// assert!(warning.unwrap().contains("button label 1.6:1"));
/// ```
pub fn low_contrast(pairs: &[(&str, &str, &str)]) -> Option<String> {
    let failing: Vec<String> = pairs
        .iter()
        .filter_map(|(what, fg, bg)| {
            let ratio = contrast(luminance(fg)?, luminance(bg)?);
            // Tenths without float formatting (kept out of the wasm).
            let tenths = (ratio * 10.0) as u32;
            (ratio < MIN_CONTRAST).then(|| format!("{what} {}.{}:1", tenths / 10, tenths % 10))
        })
        .collect();
    (!failing.is_empty()).then(|| failing.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_light_page_stays_light_whatever_it_declares() {
        let auto = Theme::default();
        for declared in ["normal", "light", "light dark", "only light", ""] {
            assert_eq!(
                auto.scheme(declared, "rgb(11, 12, 12)"),
                Scheme::Light,
                "{declared}"
            );
        }
    }

    #[test]
    fn a_dark_page_or_a_dark_part_of_one_gets_the_dark_colours() {
        let auto = Theme::default();
        assert_eq!(
            auto.scheme("light dark", "rgb(232, 232, 232)"),
            Scheme::Dark
        );
        assert_eq!(auto.scheme("dark", "rgb(255, 255, 255)"), Scheme::Dark);
        // A themed footer: no colour scheme declared, light text.
        assert_eq!(
            auto.scheme("normal", "rgba(250, 250, 250, 0.9)"),
            Scheme::Dark
        );
        // Unreadable colour: the declaration decides.
        assert_eq!(auto.scheme("dark", "color(srgb 1 1 1)"), Scheme::Dark);
        assert_eq!(
            auto.scheme("light dark", "color(srgb 1 1 1)"),
            Scheme::Light
        );
    }

    #[test]
    fn the_sites_choice_wins_over_the_page() {
        let light = Theme::parse("light").unwrap();
        assert_eq!(light.scheme("dark", "rgb(255, 255, 255)"), Scheme::Light);
        let dark = Theme::parse(" Dark  boxed ").unwrap();
        assert_eq!(dark.scheme("light", "rgb(0, 0, 0)"), Scheme::Dark);
        assert!(dark.boxed);
        assert_eq!(Theme::parse("").unwrap(), Theme::default());
        assert_eq!(Theme::parse("auto").unwrap(), Theme::default());
    }

    #[test]
    fn unknown_or_conflicting_words_are_named() {
        assert_eq!(Theme::parse("light blue"), Err("blue".into()));
        assert_eq!(
            Theme::parse("light dark"),
            Err("dark".into()),
            "one colour word at most"
        );
    }

    #[test]
    fn colours_below_4_5_to_1_are_named_in_one_warning() {
        let pairs = [
            ("text", "rgb(11, 12, 12)", "rgb(255, 255, 255)"),
            ("button label", "rgb(27, 29, 30)", "rgb(29, 112, 184)"),
            ("link", "rgb(0, 0, 0)", "transparent"),
        ];
        let warning = low_contrast(&pairs).expect("a warning");
        assert!(warning.contains("button label 3.2:1"), "{warning}");
        assert!(!warning.contains("text "), "{warning}");
        assert!(
            !warning.contains("link"),
            "an unreadable colour is not judged"
        );
        assert_eq!(low_contrast(&pairs[..1]), None);
    }

    #[test]
    fn luminance_and_contrast_follow_wcag() {
        assert_eq!(luminance("rgb(255, 255, 255)"), Some(1.0));
        assert_eq!(luminance("rgb(0, 0, 0)"), Some(0.0));
        assert_eq!(luminance("rgba(0, 0, 0, 0)"), None);
        assert_eq!(luminance("rgb(0 0 0 / 0)"), None);
        assert_eq!(luminance("transparent"), None);
        let ratio = contrast(
            luminance("rgb(29, 112, 184)").unwrap(),
            luminance("rgb(255, 255, 255)").unwrap(),
        );
        // 5.17 exactly.
        assert!((ratio - 5.17).abs() < 0.02, "{ratio}");
    }
}
