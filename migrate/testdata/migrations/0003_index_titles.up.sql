CREATE INDEX books_title ON books (title);
