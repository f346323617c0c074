//! Values stored as one scalar string, so that a concurrent write replaces the whole value.
//! A period stored as a map with `from` and `to` would merge two people's edits field by
//! field into a period nobody entered (one's start, the other's end), and an optional map
//! created by two people at once would hide one of them.

/// Implements `Hydrate` and `Reconcile` through `Display` and `FromStr`.
macro_rules! scalar_via_string {
    ($type:ty, $expected:literal) => {
        impl autosurgeon::Hydrate for $type {
            fn hydrate_string(s: &'_ str) -> Result<Self, autosurgeon::HydrateError> {
                s.parse()
                    .map_err(|_| autosurgeon::HydrateError::unexpected($expected, s.to_owned()))
            }
        }

        impl autosurgeon::Reconcile for $type {
            type Key<'a> = autosurgeon::reconcile::NoKey;

            fn reconcile<R: autosurgeon::Reconciler>(
                &self,
                mut reconciler: R,
            ) -> Result<(), R::Error> {
                reconciler.str(self.to_string())
            }
        }
    };
}
pub(crate) use scalar_via_string;

/// Joins parts into one string that [`split`] takes apart again, whatever the parts
/// contain: each part is prefixed with its length in bytes.
pub(crate) fn join(parts: &[&str]) -> String {
    parts.iter().map(|p| format!("{}:{p}", p.len())).collect()
}

pub(crate) fn split(mut s: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    while !s.is_empty() {
        let (len, rest) = s.split_once(':')?;
        let len: usize = len.parse().ok()?;
        let part = rest.get(..len)?;
        parts.push(part);
        s = &rest[len..];
    }
    Some(parts)
}

#[cfg(test)]
mod tests;
