//! Rules across the records of one tenant, which no single document can enforce: a
//! pseudonym is unique within the tenant, and so is the short client id. Two counsellors
//! who each create "the same" person offline produce two records; this says which one
//! keeps the name (the one created first) and tells the creator of the other.

use std::collections::BTreeMap;

use model::DocumentId;
use model::client_record::ClientRecord;

use crate::notice::{Notice, NoticeKind};

/// Pseudonyms compare without case and surrounding blanks: "Testklient " and
/// "testklient" are the same name to a person.
pub fn normalized_pseudonym(pseudonym: &str) -> String {
    pseudonym.trim().to_lowercase()
}

/// Notices for every record whose pseudonym or client id an older record already has.
pub fn duplicate_notices<'a>(
    records: impl IntoIterator<Item = (&'a DocumentId, &'a ClientRecord)>,
) -> Vec<Notice> {
    let mut by_name: BTreeMap<String, Vec<(&DocumentId, &ClientRecord)>> = BTreeMap::new();
    let mut by_client_id: BTreeMap<&str, Vec<(&DocumentId, &ClientRecord)>> = BTreeMap::new();
    for (id, record) in records {
        by_name
            .entry(normalized_pseudonym(&record.pseudonym))
            .or_default()
            .push((id, record));
        by_client_id
            .entry(record.client_id.as_str())
            .or_default()
            .push((id, record));
    }
    let mut notices = Vec::new();
    let mut report = |mut group: Vec<(&DocumentId, &ClientRecord)>,
                      code: &str,
                      kind: fn(DocumentId, DocumentId) -> NoticeKind| {
        group.sort_by(|(a_id, a), (b_id, b)| (&a.created, a_id).cmp(&(&b.created, b_id)));
        let Some(((kept, _), rest)) = group.split_first() else {
            return;
        };
        for (duplicate, record) in rest {
            notices.push(Notice::new(
                format!("{code}:{duplicate}"),
                kind(**kept, **duplicate),
                [record.created_by.clone()],
            ));
        }
    };
    for group in by_name.into_values() {
        report(group, "duplicate-pseudonym", |kept, duplicate| {
            NoticeKind::DuplicatePseudonym { kept, duplicate }
        });
    }
    for group in by_client_id.into_values() {
        report(group, "duplicate-client-id", |kept, duplicate| {
            NoticeKind::DuplicateClientId { kept, duplicate }
        });
    }
    notices
}

#[cfg(test)]
mod tests;
