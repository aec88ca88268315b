"""Awkward values and pasted connections, shared by the parser tests and the browser's parity test."""

AWKWARD = [
    "plain",
    "p;a}ss{=",
    "semi;colon",
    "}",
    "{",
    "{}",
    "}}{{",
    "a=b",
    " leading",
    "trailing ",
    "  ",
    'double"quote',
    "single'quote",
    "ünïcödé ✓ 密码",
    "ends with brace}",
    "{starts",
    "x;y=z{w}",
]

# What people paste: Flow Service's key=value; strings, libpq's key=value pairs and URIs, and broken ones.
PASTED = [
    "HOST=gp.example.com;PORT=5432;DB=orders;UID=etl;PWD={p;a}}ss}",
    "Server=pg.example.com;Database=orders;Port=5432;UID=etl;Password=s3cret",
    "host=pg.example.com port=5432 dbname=orders user=etl password=s3cret",
    "host = pg.example.com  port=5432 password='it''s' sslmode=require",
    "host=pg.example.com password='p w\\'x' user=etl",
    "host=pg.example.com password=back\\ slash",
    "postgresql://etl:p%40ss%3Bw@pg.example.com:5432/orders?sslmode=require&application_name=wizard",
    "postgres://pg.example.com/orders",
    "jdbc:redshift://rs.example.com:5439/dev?ssl=true",
    "postgresql://etl@[2001:db8::5]:5432/orders",
    "postgresql://etl:pw@a.example.com,b.example.com/orders",
    "postgresql://:5432/orders",
    "host=pg.example.com password='never closed",
    "host=pg.example.com host=again",
    "PWD=Winter;2024!Secret",
    "justtext",
]
