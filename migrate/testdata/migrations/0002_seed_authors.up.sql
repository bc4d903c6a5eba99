INSERT INTO authors (id, name) VALUES (1, 'Ursula K. Le Guin');
INSERT INTO books (id, author_id, title) VALUES (1, 1, 'The Dispossessed'), (2, 1, 'The Lathe of Heaven');
