//! Resource ids made from canonical URLs and names, for resources that arrive without one.

/// A resource id made from text: letters, digits, `-` and `.`, at most 64 characters.
pub fn slug(text: &str) -> String {
    let mut out: String = text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' }).collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let trimmed = out.trim_matches('-');
    trimmed.chars().take(64).collect()
}
