-- +goose Up
-- A new registration asks whether anyone waits for a registration type with
-- room, and how many (models' seatTaking): by type, without walking the
-- conference's whole waiting list, which may be long for a full type.
CREATE INDEX registrations_waitlist_type_idx ON registrations (category_id) WHERE status = 'waitlisted';

-- +goose Down
DROP INDEX registrations_waitlist_type_idx;
