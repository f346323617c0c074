//! The server-only fields of a client record, read leniently: whatever someone else put
//! there (an empty map, no map, an entry of another shape) must not make the record
//! unreadable, and `Schema::vet` keeps only what the server wrote anyway.

use std::collections::BTreeMap;

use autosurgeon::Hydrate;

use super::{AccountState, DeletionEvent};
use crate::ids::EntityId;

pub(super) fn account<D: autosurgeon::ReadDoc>(
    doc: &D,
    obj: &automerge::ObjId,
    prop: autosurgeon::Prop<'_>,
) -> Result<AccountState, autosurgeon::HydrateError> {
    Ok(AccountState::hydrate(doc, obj, prop).unwrap_or_default())
}

pub(super) fn deletion_events<D: autosurgeon::ReadDoc>(
    doc: &D,
    obj: &automerge::ObjId,
    prop: autosurgeon::Prop<'_>,
) -> Result<BTreeMap<EntityId, DeletionEvent>, autosurgeon::HydrateError> {
    let key = match &prop {
        autosurgeon::Prop::Key(key) => key.to_string(),
        autosurgeon::Prop::Index(_) => return Ok(BTreeMap::new()),
    };
    let Ok(Some((automerge::Value::Object(automerge::ObjType::Map), map))) = doc.get(obj, key)
    else {
        return Ok(BTreeMap::new());
    };
    Ok(doc
        .map_range(&map, ..)
        .filter_map(|item| {
            let event =
                DeletionEvent::hydrate(doc, &map, autosurgeon::Prop::Key(item.key.clone())).ok()?;
            Some((EntityId::new(item.key), event))
        })
        .collect())
}
