-- +goose Up
-- Every registration updates its conference's and category's seat counters
-- (and its workshops'), and its insert checks it references them. Checked
-- at the insert, that foreign key takes a KEY SHARE lock on the very rows
-- the rush queues for and keeps it to the end of the transaction, so each
-- counter update must carry a multixact of every registration in flight:
-- in a 16-client rush that halves the rate. Checked at commit, after the
-- registration's own counter updates, the lock is one it already holds (or,
-- for a waitlisted registration, one held only while it commits). The keys
-- are the same and hold for every committed row; only the moment of the
-- check moves: a delete that cascades still cascades at once, one that is
-- refused is refused at commit.
ALTER TABLE registrations
    ALTER CONSTRAINT registrations_conference_id_fkey DEFERRABLE INITIALLY DEFERRED,
    ALTER CONSTRAINT registrations_category_id_fkey DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE registration_sessions
    ALTER CONSTRAINT registration_sessions_session_id_fkey DEFERRABLE INITIALLY DEFERRED;

-- +goose Down
ALTER TABLE registration_sessions
    ALTER CONSTRAINT registration_sessions_session_id_fkey NOT DEFERRABLE;
ALTER TABLE registrations
    ALTER CONSTRAINT registrations_category_id_fkey NOT DEFERRABLE,
    ALTER CONSTRAINT registrations_conference_id_fkey NOT DEFERRABLE;
