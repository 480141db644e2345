-- demo step 1: the raw telemetry table and the video catalogue
CREATE TABLE events AS
SELECT * FROM qoe_generate_events(:sessions, :days, :seed);
CREATE TABLE videos AS
SELECT * FROM qoe_generate_videos(1000, :seed);
ALTER TABLE videos ADD PRIMARY KEY (video_id);
