//! Tables, identical on both backends (`migrations/sqlite` and `migrations/postgres`).

diesel::table! {
    users (id) {
        id -> BigInt,
        public_id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        is_admin -> Bool,
        disabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organizations (id) {
        id -> BigInt,
        public_id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organization_members (organization_id, user_id) {
        organization_id -> BigInt,
        user_id -> BigInt,
        is_admin -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    groups (id) {
        id -> BigInt,
        public_id -> Text,
        organization_id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    applications (id) {
        id -> BigInt,
        app_id -> Text,
        name -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    application_callbacks (id) {
        id -> BigInt,
        application_id -> BigInt,
        url -> Text,
        match_key -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        amr -> Text,
    }
}

diesel::table! {
    auth_flows (id) {
        id -> BigInt,
        token_hash -> Text,
        return_to -> Text,
        user_id -> Nullable<BigInt>,
        amr -> Text,
        pending -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        access_key -> Text,
        secret_hash -> Text,
        user_id -> BigInt,
        name -> Text,
        read_only -> Bool,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        action -> Text,
        outcome -> Text,
        actor_id -> Nullable<Text>,
        actor -> Nullable<Text>,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        target -> Nullable<Text>,
        organization_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        details -> Nullable<Text>,
    }
}

diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(organization_members -> organizations (organization_id));
diesel::joinable!(organization_members -> users (user_id));
diesel::joinable!(groups -> organizations (organization_id));
diesel::joinable!(group_members -> groups (group_id));
diesel::joinable!(group_members -> users (user_id));
diesel::joinable!(application_callbacks -> applications (application_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(auth_flows -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    organizations,
    organization_members,
    groups,
    group_members,
    applications,
    application_callbacks,
    sessions,
    auth_flows,
    api_keys,
    audit_events,
);
