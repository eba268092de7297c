-- Shape definitions: create_shape, drop_shape, the shapes view and every refused definition.
CREATE EXTENSION electric_shapes;
CREATE TABLE messages (id bigint PRIMARY KEY, conversation_id int NOT NULL, author text, body text);
SELECT electric_shapes.create_shape('conv_1', 'messages', 'conversation_id = 1');
SELECT name, relation, where_clause, columns, replica FROM electric_shapes.shapes;
