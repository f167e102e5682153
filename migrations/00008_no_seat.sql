-- +goose Up
-- A registration that expects a seat is stored and takes its seat in one
-- statement with no transaction around it, so the seat counters every
-- registration updates are locked only while that statement commits, not
-- for a round trip to the app and back (models' registerAtOnce). When the
-- seat is gone after all, the statement calls this to undo all of itself.
-- +goose StatementBegin
CREATE FUNCTION convene_no_seat() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'no seat left' USING ERRCODE = 'CV001';
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION convene_no_seat();
