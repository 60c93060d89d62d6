-- The release task: what `bin/rails db:migrate` would do.
CREATE TABLE IF NOT EXISTS items (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO items (name) VALUES ('formation');
