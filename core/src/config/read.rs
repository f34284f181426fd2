//! One reader for the configuration's JSON. The slot's own keys, each newsletter, the consent
//! box and every provider's settings object are read through [`Object`], so a mistake is reported
//! the same way everywhere: the place (`newsletters[2].name`, `mailchimp.action`), what was
//! expected there, and what was found.

use std::ops::RangeInclusive;

use crate::config::ConfigError;
use crate::json::Value;

/// A [`ConfigError::WrongType`] at `at`.
pub(crate) fn wrong(at: String, expected: &'static str, found: &Value) -> ConfigError {
    ConfigError::WrongType {
        at,
        expected,
        found: found.kind(),
    }
}

/// An object of the configuration and its place in it (`""` for the whole configuration,
/// `consent`, `newsletters[2]`, `mailchimp`).
pub(crate) struct Object<'v> {
    at: String,
    members: &'v [(String, Value)],
}

impl<'v> Object<'v> {
    /// `value` read as the object at `at`; with `known`, any other key is an error.
    pub(crate) fn new(
        value: &'v Value,
        at: &str,
        known: Option<&'static [&'static str]>,
    ) -> Result<Self, ConfigError> {
        let Value::Object(members) = value else {
            return Err(wrong(at.to_owned(), "an object", value));
        };
        if let Some(known) = known {
            if let Some((key, _)) = members.iter().find(|(k, _)| !known.contains(&k.as_str())) {
                return Err(ConfigError::UnknownKey {
                    at: at.to_owned(),
                    key: key.clone(),
                    known,
                });
            }
        }
        Ok(Object {
            at: at.to_owned(),
            members,
        })
    }

    /// The object `key` of this one, checked against `known`; empty when absent or `null`.
    pub(crate) fn child(
        &self,
        key: &str,
        known: &'static [&'static str],
    ) -> Result<Object<'v>, ConfigError> {
        match self.get(key) {
            None => Ok(Object {
                at: self.place(key),
                members: &[],
            }),
            Some(value) => Object::new(value, &self.place(key), Some(known)),
        }
    }

    /// The members, in order.
    pub(crate) fn members(&self) -> &'v [(String, Value)] {
        self.members
    }

    /// The value of `key` (the last one when repeated, as `JSON.parse` does); `None` when it is
    /// absent or `null`.
    pub(crate) fn get(&self, key: &str) -> Option<&'v Value> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .filter(|v| **v != Value::Null)
    }

    /// Where `key` of this object is: `mailchimp.action`, or `endpoint` at the top.
    pub(crate) fn place(&self, key: &str) -> String {
        if self.at.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.at)
        }
    }

    /// The string `key`, trimmed (possibly empty).
    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(other) => Err(wrong(self.place(key), "a string", other)),
        }
    }

    /// The string `key`, trimmed; `None` when absent or empty.
    pub(crate) fn text(&self, key: &str) -> Result<Option<String>, ConfigError> {
        Ok(self.string(key)?.filter(|s| !s.is_empty()))
    }

    /// The string `key`, which must be there and not empty ([`ConfigError::MissingSetting`]).
    pub(crate) fn required(&self, key: &str) -> Result<String, ConfigError> {
        self.text(key)?
            .ok_or_else(|| ConfigError::MissingSetting(self.place(key)))
    }

    /// The boolean `key`; `default` when absent.
    pub(crate) fn flag(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(wrong(self.place(key), "true or false", other)),
        }
    }

    /// The array `key` (empty when absent).
    pub(crate) fn array(&self, key: &str) -> Result<&'v [Value], ConfigError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(wrong(self.place(key), "an array", other)),
        }
    }

    /// The array of strings `key` (empty when absent).
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| wrong(format!("{}[]", self.place(key)), "a string", v))
                })
                .collect(),
            Some(other) => Err(wrong(self.place(key), "an array of strings", other)),
        }
    }

    /// The `{"name": "value"}` object `key` as pairs, in order (empty when absent).
    pub(crate) fn pairs(&self, key: &str) -> Result<Vec<(String, String)>, ConfigError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    other => Err(wrong(format!("{}.{k}", self.place(key)), "a string", other)),
                })
                .collect(),
            Some(other) => Err(wrong(self.place(key), "an object of strings", other)),
        }
    }

    /// The whole number `key` within `range` (`expected` says which, for the error); `default`
    /// when absent.
    pub(crate) fn whole_number(
        &self,
        key: &str,
        default: u32,
        range: RangeInclusive<u32>,
        expected: &'static str,
    ) -> Result<u32, ConfigError> {
        let wrong = |found| ConfigError::WrongType {
            at: self.place(key),
            expected,
            found,
        };
        match self.get(key) {
            None => Ok(default),
            Some(Value::Number(n)) => n
                .parse::<u32>()
                .ok()
                .filter(|v| range.contains(v))
                .ok_or(wrong("another number")),
            Some(other) => Err(wrong(other.kind())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    const KEYS: &[&str] = &["a", "b", "n", "list", "map", "inner"];

    fn read<T>(
        json: &str,
        f: impl FnOnce(&Object<'_>) -> Result<T, ConfigError>,
    ) -> Result<T, ConfigError> {
        let value = parse(json).unwrap();
        let object = Object::new(&value, "", Some(KEYS))?;
        f(&object)
    }

    #[test]
    fn every_mistake_names_its_place_and_what_was_expected() {
        let at = |r: Result<(), ConfigError>| match r {
            Err(ConfigError::WrongType { at, expected, .. }) => (at, expected),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            at(read(r#"{"a": 1}"#, |o| o.text("a").map(drop))),
            ("a".into(), "a string")
        );
        assert_eq!(
            at(read(r#"{"inner": {"a": 1}}"#, |o| o
                .child("inner", KEYS)?
                .text("a")
                .map(drop))),
            ("inner.a".into(), "a string")
        );
        assert_eq!(
            at(read(r#"{"list": ["x", 2]}"#, |o| o
                .strings("list")
                .map(drop))),
            ("list[]".into(), "a string")
        );
        assert_eq!(
            at(read(r#"{"map": {"k": true}}"#, |o| o
                .pairs("map")
                .map(drop))),
            ("map.k".into(), "a string")
        );
        assert_eq!(
            at(read(r#"{"b": "yes"}"#, |o| o.flag("b", false).map(drop))),
            ("b".into(), "true or false")
        );
        assert_eq!(
            at(read(r#"{"n": 11}"#, |o| o
                .whole_number("n", 1, 1..=10, "1 to 10")
                .map(drop))),
            ("n".into(), "1 to 10")
        );
    }

    #[test]
    fn absent_and_null_read_as_the_default_and_the_last_repeat_wins() {
        let got = read(r#"{"a": null, "b": true, "b": false}"#, |o| {
            Ok((
                o.text("a")?,
                o.flag("b", true)?,
                o.whole_number("n", 7, 0..=9, "")?,
            ))
        })
        .unwrap();
        assert_eq!(got, (None, false, 7));
        assert_eq!(
            read(r#"{"a": "  "}"#, |o| o.string("a")).unwrap(),
            Some(String::new())
        );
        assert_eq!(read(r#"{"a": "  "}"#, |o| o.text("a")).unwrap(), None);
    }

    #[test]
    fn an_unknown_key_and_a_missing_setting_name_the_object() {
        match read(r#"{"inner": {"zzz": 1}}"#, |o| {
            o.child("inner", &["a"]).map(drop)
        }) {
            Err(ConfigError::UnknownKey { at, key, .. }) => {
                assert_eq!((at.as_str(), key.as_str()), ("inner", "zzz"))
            }
            other => panic!("{other:?}"),
        }
        match read(r#"{"inner": {}}"#, |o| {
            o.child("inner", KEYS)?.required("a")
        }) {
            Err(ConfigError::MissingSetting(at)) => assert_eq!(at, "inner.a"),
            other => panic!("{other:?}"),
        }
    }
}
