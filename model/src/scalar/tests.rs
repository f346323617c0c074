//! Tests of the scalar encodings.

use super::*;

#[test]
fn joined_parts_split_back_whatever_they_contain() {
    let parts = ["anna", "", "1:2:3", "ü@|.."];
    let joined = join(&parts);
    assert_eq!(split(&joined), Some(parts.to_vec()));
    assert_eq!(split("5:ab"), None);
    assert_eq!(split("x:ab"), None);
    assert_eq!(split(""), Some(vec![]));
}
