//! Parameters: how operation input arrives (a POSTed resource or a query string) and how output leaves.

use super::{array_of, str_of, Json};
use serde_json::{json, Map};

/// The parameters of one operation call, in request order, whichever way they arrived.
///
/// A `Parameters` resource's entries stay JSON; `name=value` pairs from a query string or a form
/// stay text, so that a GET builds no JSON at all. The pairs count as coming after the entries
/// (a POST's query string adds to its body), and they carry only primitive values: no resource,
/// no Coding.
#[derive(Clone, Debug, Default)]
pub struct Parameters {
    pub entries: Vec<Json>,
    pub pairs: Vec<(String, String)>,
}

impl Parameters {
    /// Reads a `Parameters` resource; a body of another resource type is refused by the caller.
    pub fn from_resource(resource: &Json) -> Parameters {
        Parameters::from_entries(array_of(resource, "parameter").to_vec())
    }

    /// Reads `name=value` pairs from a query string, as primitive (`valueString`) parameters.
    pub fn from_query_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Parameters {
        Parameters::from_pairs(pairs.into_iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect())
    }

    /// As [`Parameters::from_query_pairs`], taking the decoded pairs as they are.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Parameters {
        Parameters { entries: Vec::new(), pairs }
    }

    /// The entries of a `Parameters` resource, with no query pairs.
    pub fn from_entries(entries: Vec<Json>) -> Parameters {
        Parameters { entries, pairs: Vec::new() }
    }

    pub fn push_value(&mut self, name: &str, value_key: &str, value: Json) {
        let mut entry = Map::new();
        entry.insert("name".into(), Json::String(name.into()));
        entry.insert(value_key.into(), value);
        self.entries.push(Json::Object(entry));
    }

    pub fn push_resource(&mut self, name: &str, resource: Json) {
        self.entries.push(json!({"name": name, "resource": resource}));
    }

    pub fn push_parts(&mut self, name: &str, parts: Vec<Json>) {
        self.entries.push(json!({"name": name, "part": parts}));
    }

    pub fn to_resource(&self) -> Json {
        let mut parameter = self.entries.clone();
        parameter.extend(self.pairs.iter().map(|(name, value)| json!({"name": name, "valueString": value})));
        json!({"resourceType": "Parameters", "parameter": parameter})
    }

    /// Every resource entry with this name, in order (query pairs are not JSON entries).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Json> + 'a {
        self.entries.iter().filter(move |entry| str_of(entry, "name") == Some(name))
    }

    fn first_entry(&self, name: &str) -> Option<&Json> {
        self.entries.iter().find(|entry| str_of(entry, "name") == Some(name))
    }

    pub fn first(&self, name: &str) -> Option<&Json> {
        self.first_entry(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.first(name).is_some() || self.pair(name).is_some()
    }

    fn pair(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The text of the first parameter with this name, borrowed: `None` when it is absent or its
    /// first entry is not primitive (use [`Parameters::str`] for numbers and booleans in entries).
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.first(name) {
            Some(entry) => value_of(entry).and_then(|(_, value)| value.as_str()),
            None => self.pair(name),
        }
    }

    /// The primitive value of the first parameter with this name, as text.
    pub fn str(&self, name: &str) -> Option<String> {
        match self.first(name) {
            Some(entry) => primitive_text(entry),
            None => self.pair(name).map(str::to_owned),
        }
    }

    /// Every primitive value with this name, as text.
    pub fn strs(&self, name: &str) -> Vec<String> {
        let pairs = self.pairs.iter().filter(|(key, _)| key == name).map(|(_, value)| value.clone());
        self.all(name).filter_map(primitive_text).chain(pairs).collect()
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.first(name) {
            Some(entry) => match value_of(entry)?.1 {
                Json::Bool(flag) => Some(*flag),
                Json::String(text) => text.parse().ok(),
                _ => None,
            },
            None => self.pair(name).and_then(|text| text.parse().ok()),
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.str(name).and_then(|text| text.trim().parse().ok())
    }

    pub fn resource(&self, name: &str) -> Option<&Json> {
        self.first(name).and_then(|entry| entry.get("resource"))
    }

    pub fn resources<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Json> + 'a {
        self.all(name).filter_map(|entry| entry.get("resource"))
    }

    /// The value of a complex-typed entry (`valueCoding`, `valueCodeableConcept`).
    pub fn complex(&self, name: &str, value_key: &str) -> Option<&Json> {
        self.first(name).and_then(|entry| entry.get(value_key))
    }
}

/// The `value[x]` member of a parameter entry, with its key.
pub fn value_of(entry: &Json) -> Option<(&str, &Json)> {
    entry.as_object()?.iter().find(|(key, _)| key.starts_with("value")).map(|(key, value)| (key.as_str(), value))
}

/// A primitive value rendered as text: strings as they are, numbers and booleans printed.
pub fn primitive_text(entry: &Json) -> Option<String> {
    match value_of(entry)?.1 {
        Json::String(text) => Some(text.clone()),
        Json::Bool(flag) => Some(flag.to_string()),
        Json::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_posted_and_query_parameters_alike() {
        let posted = Parameters::from_resource(&json!({"resourceType": "Parameters", "parameter": [
            {"name": "code", "valueCode": "a"}, {"name": "count", "valueInteger": 5},
            {"name": "activeOnly", "valueBoolean": true}
        ]}));
        let query = Parameters::from_query_pairs([("code", "a"), ("count", "5"), ("activeOnly", "true")]);
        for params in [posted, query] {
            assert_eq!(params.str("code").as_deref(), Some("a"));
            assert_eq!(params.int("count"), Some(5));
            assert_eq!(params.bool("activeOnly"), Some(true));
            assert_eq!(params.str("missing"), None);
        }
    }

    #[test]
    fn a_query_string_adds_to_a_posted_body_after_its_entries() {
        let mut params = Parameters::from_resource(&json!({"resourceType": "Parameters", "parameter": [
            {"name": "property", "valueCode": "a"}, {"name": "coding", "valueCoding": {"code": "x"}}
        ]}));
        params.pairs = vec![("property".to_owned(), "b".to_owned()), ("code".to_owned(), "y".to_owned())];
        assert_eq!(params.strs("property"), ["a", "b"]);
        assert_eq!(params.str("property").as_deref(), Some("a"));
        assert_eq!(params.text("code"), Some("y"));
        assert!(params.has("code") && params.has("coding") && !params.has("system"));
        assert_eq!(params.complex("coding", "valueCoding"), Some(&json!({"code": "x"})));
        assert_eq!(params.to_resource()["parameter"][3], json!({"name": "code", "valueString": "y"}));
    }
}
