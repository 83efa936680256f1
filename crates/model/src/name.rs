//! `Name`: a short, shared, immutable string for the names a release repeats millions of times
//! (property codes, languages), interned so equal names share one allocation.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

/// A property code or language tag: 8 bytes (a thin pointer, since millions of properties and
/// designations each hold one), cloned by reference count.
///
/// [`Name::new`] interns: a release's few hundred property codes each get one allocation however
/// many concepts use them. The interner is bounded ([`MAX_INTERNED`]), so names sent by callers
/// (inline `tx-resource` content) cannot grow it without end; past the bound a name is simply
/// allocated on its own.
#[derive(Clone, PartialOrd, Ord)]
pub struct Name(Arc<Box<str>>);

/// How many distinct names the interner keeps.
pub const MAX_INTERNED: usize = 1 << 18;

fn interner() -> &'static Mutex<HashMap<Box<str>, Name>> {
    static INTERNER: OnceLock<Mutex<HashMap<Box<str>, Name>>> = OnceLock::new();
    INTERNER.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Name {
    pub fn new(text: &str) -> Name {
        let mut interned = interner().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = interned.get(text) {
            return found.clone();
        }
        let name = Name(Arc::new(Box::from(text)));
        if interned.len() < MAX_INTERNED {
            interned.insert(Box::from(text), name.clone());
        }
        name
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reader's own cache in front of the shared interner, for bulk reads (a release's property
/// rows at start): one hash lookup and no lock per row.
#[derive(Default)]
pub struct Names {
    seen: std::collections::HashMap<Box<str>, Name>,
}

impl Names {
    pub fn name(&mut self, text: &str) -> Name {
        if let Some(name) = self.seen.get(text) {
            return name.clone();
        }
        let name = Name::new(text);
        self.seen.insert(text.into(), name.clone());
        name
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

/// By the text, as equality goes.
impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name::new(text)
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Name {
        Name::new(text)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name::new(&text)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), formatter)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), formatter)
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_names_share_one_allocation() {
        let first = Name::new("moduleId");
        let second = Name::from(String::from("moduleId"));
        assert!(Arc::ptr_eq(&first.0, &second.0));
        assert_eq!(first, "moduleId");
        assert_eq!(std::mem::size_of::<Name>(), 8);
        assert_eq!(std::mem::size_of::<Option<Name>>(), 8);
    }
}
