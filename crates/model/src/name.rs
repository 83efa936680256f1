//! `Name`: a short, shared, immutable string for the names a release repeats millions of times
//! (property codes, languages), interned so equal names share one allocation.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

/// A property code or language tag: 16 bytes, cloned by reference count.
///
/// [`Name::new`] interns: a release's few hundred property codes each get one allocation however
/// many concepts use them. The interner is bounded ([`MAX_INTERNED`]), so names sent by callers
/// (inline `tx-resource` content) cannot grow it without end; past the bound a name is simply
/// allocated on its own.
#[derive(Clone, PartialOrd, Ord, Hash)]
pub struct Name(Arc<str>);

/// How many distinct names the interner keeps.
pub const MAX_INTERNED: usize = 1 << 18;

fn interner() -> &'static Mutex<HashSet<Arc<str>>> {
    static INTERNER: OnceLock<Mutex<HashSet<Arc<str>>>> = OnceLock::new();
    INTERNER.get_or_init(|| Mutex::new(HashSet::new()))
}

impl Name {
    pub fn new(text: &str) -> Name {
        let mut interned = interner().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = interned.get(text) {
            return Name(found.clone());
        }
        let name: Arc<str> = Arc::from(text);
        if interned.len() < MAX_INTERNED {
            interned.insert(name.clone());
        }
        Name(name)
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
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
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
        fmt::Display::fmt(&*self.0, formatter)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, formatter)
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
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
        assert_eq!(std::mem::size_of::<Name>(), 16);
    }
}
