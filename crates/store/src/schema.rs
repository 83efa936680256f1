//! The diesel table definitions; they mirror `migrations/{sqlite,postgres}`.

diesel::table! {
    resources (pk) {
        pk -> BigInt,
        resource_type -> Text,
        id -> Text,
        url -> Nullable<Text>,
        version -> Nullable<Text>,
        name -> Nullable<Text>,
        title -> Nullable<Text>,
        status -> Nullable<Text>,
        version_id -> BigInt,
        last_updated -> Text,
        json -> Text,
        write_key -> Text,
    }
}

diesel::table! {
    concepts (resource_pk, ordinal) {
        resource_pk -> BigInt,
        ordinal -> Integer,
        code -> Text,
        display -> Nullable<Text>,
        definition -> Nullable<Text>,
        nest_parent -> Nullable<Integer>,
        extra -> Nullable<Text>,
    }
}

diesel::table! {
    designations (resource_pk, concept_ordinal, ordinal) {
        resource_pk -> BigInt,
        concept_ordinal -> Integer,
        ordinal -> Integer,
        language -> Nullable<Text>,
        use_coding -> Nullable<Text>,
        value -> Text,
        extra -> Nullable<Text>,
    }
}

diesel::table! {
    concept_properties (resource_pk, concept_ordinal, ordinal) {
        resource_pk -> BigInt,
        concept_ordinal -> Integer,
        ordinal -> Integer,
        code -> Text,
        value_key -> Text,
        value -> Text,
        extra -> Nullable<Text>,
    }
}

diesel::table! {
    concept_map_elements (resource_pk, ordinal) {
        resource_pk -> BigInt,
        ordinal -> Integer,
        source_system -> Nullable<Text>,
        source_code -> Text,
        target_system -> Nullable<Text>,
        target_code -> Nullable<Text>,
        equivalence -> Nullable<Text>,
    }
}

diesel::table! {
    generation (id) {
        id -> Integer,
        value -> BigInt,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        state -> Text,
        phase -> Text,
        format -> Text,
        version -> Nullable<Text>,
        dry_run -> Bool,
        make_current -> Bool,
        sub -> Nullable<Text>,
        files -> Text,
        bytes_total -> BigInt,
        bytes_done -> BigInt,
        rows_done -> BigInt,
        counts -> Nullable<Text>,
        diagnostics -> Nullable<Text>,
        n_diagnostics -> BigInt,
        diff -> Nullable<Text>,
        error -> Nullable<Text>,
        created_at -> Text,
        started_at -> Nullable<Text>,
        finished_at -> Nullable<Text>,
        updated_at -> Text,
    }
}

diesel::table! {
    audit_log (pk) {
        pk -> BigInt,
        at -> Text,
        sub -> Nullable<Text>,
        action -> Text,
        target -> Text,
        outcome -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    current_versions (url) {
        url -> Text,
        version -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    resources,
    concepts,
    designations,
    concept_properties,
    concept_map_elements,
    generation,
    jobs,
    audit_log,
    current_versions
);
