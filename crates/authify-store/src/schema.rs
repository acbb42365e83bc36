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
        email_verified -> Bool,
    }
}

diesel::table! {
    organizations (id) {
        id -> BigInt,
        public_id -> Text,
        name -> Text,
        created_at -> Timestamp,
        require_mfa -> Bool,
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
        client_type -> Text,
        first_party -> Bool,
        algorithm -> Text,
        backchannel_logout_uri -> Nullable<Text>,
        post_logout_redirect_uri -> Nullable<Text>,
        backchannel_failures -> Integer,
        require_mfa -> Bool,
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
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    session_apps (session_id, application_id) {
        session_id -> BigInt,
        application_id -> BigInt,
        first_at -> Timestamp,
    }
}

diesel::table! {
    oauth_codes (id) {
        id -> BigInt,
        code_hash -> Text,
        application_id -> BigInt,
        user_id -> BigInt,
        sid -> Text,
        redirect_uri -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        auth_time -> Timestamp,
        amr -> Text,
        legacy -> Bool,
        family -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        redeemed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_refresh_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        family -> Text,
        application_id -> BigInt,
        user_id -> BigInt,
        sid -> Text,
        scope -> Text,
        auth_time -> Timestamp,
        amr -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_revocations (revoked) {
        revoked -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    oauth_grants (user_id, application_id) {
        user_id -> BigInt,
        application_id -> BigInt,
        scope -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    logout_outbox (id) {
        id -> BigInt,
        application_id -> BigInt,
        sub -> Text,
        sid -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
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
        factor_failures -> Integer,
        ceremony -> Nullable<Text>,
        upstream -> Nullable<Text>,
        client_key -> Nullable<Text>,
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

diesel::table! {
    user_factors (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        label -> Text,
        secret -> Nullable<Text>,
        phone -> Nullable<Text>,
        device_hash -> Nullable<Text>,
        last_step -> Nullable<BigInt>,
        pending_for -> Nullable<Text>,
        confirmed -> Bool,
        created_at -> Timestamp,
        credential -> Nullable<Text>,
        credential_id -> Nullable<Text>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    factor_challenges (id) {
        id -> BigInt,
        flow_id -> Nullable<BigInt>,
        factor_id -> BigInt,
        code_hash -> Text,
        tries -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    approval_requests (id) {
        id -> BigInt,
        public_id -> Text,
        flow_id -> Nullable<BigInt>,
        user_id -> BigInt,
        app_name -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        number -> Integer,
        choices -> Text,
        status -> Text,
        decided_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    webhook_health (name) {
        name -> Text,
        failures -> Integer,
        last_error -> Nullable<Text>,
        updated_at -> Timestamp,
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
diesel::joinable!(session_apps -> sessions (session_id));
diesel::joinable!(session_apps -> applications (application_id));
diesel::joinable!(oauth_codes -> applications (application_id));
diesel::table! {
    invitations (id) {
        id -> BigInt,
        public_id -> Text,
        organization_id -> BigInt,
        email -> Text,
        token_hash -> Text,
        invited_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        accepted_by -> Nullable<BigInt>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    upstream_identities (id) {
        id -> BigInt,
        user_id -> BigInt,
        provider -> Text,
        subject -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(upstream_identities -> users (user_id));

diesel::table! {
    email_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        purpose -> Text,
        user_id -> BigInt,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    pending_signups (user_id) {
        user_id -> BigInt,
        delete_after -> Timestamp,
    }
}

diesel::table! {
    magic_links (id) {
        id -> BigInt,
        token_hash -> Text,
        flow_id -> BigInt,
        user_id -> BigInt,
        step -> Text,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        private_sealed -> Text,
        created_at_ms -> BigInt,
        signs_from_ms -> BigInt,
    }
}

diesel::table! {
    leases (name) {
        name -> Text,
        holder -> Text,
        expires_at_ms -> BigInt,
    }
}

diesel::table! {
    throttle_buckets (key) {
        key -> Text,
        tat_ms -> BigInt,
        last_allowed -> Integer,
    }
}

diesel::joinable!(oauth_refresh_tokens -> applications (application_id));
diesel::joinable!(oauth_grants -> applications (application_id));
diesel::joinable!(logout_outbox -> applications (application_id));
diesel::joinable!(user_factors -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(factor_challenges -> user_factors (factor_id));

diesel::allow_tables_to_appear_in_same_query!(
    user_factors,
    recovery_codes,
    factor_challenges,
    approval_requests,
    webhook_health,
    users,
    organizations,
    organization_members,
    groups,
    group_members,
    applications,
    application_callbacks,
    sessions,
    auth_flows,
    session_apps,
    oauth_codes,
    oauth_refresh_tokens,
    oauth_revocations,
    oauth_grants,
    logout_outbox,
    api_keys,
    audit_events,
    signing_keys,
    email_tokens,
    magic_links,
    pending_signups,
    invitations,
    leases,
    throttle_buckets,
    upstream_identities,
);
