//! The strings a coding is made of, each its own type, so that a code is never passed where a
//! code system's URL or version is meant (the typed operation requests hold them).

macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn new(text: impl Into<String>) -> $name {
                $name(text.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> $name {
                $name(text)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> $name {
                $name(text.to_owned())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

text_type!(
    /// A code, as its code system defines it.
    Code
);
text_type!(
    /// A code system's canonical URL, or a `urn:oid:` standing for one.
    SystemUrl
);
text_type!(
    /// A code system version.
    Version
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reads_as_its_text() {
        let code = Code::from("E11.9");
        assert_eq!(code, "E11.9");
        assert_eq!(code.len(), 5);
        assert_eq!(format!("{code}"), "E11.9");
        assert_eq!(SystemUrl::new("http://hl7.org/fhir/sid/icd-10-cm").as_str(), "http://hl7.org/fhir/sid/icd-10-cm");
        assert_eq!(Version::from(String::from("2026")).into_string(), "2026");
    }
}
