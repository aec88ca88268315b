"""What a dataflow is made of, apart from its pages: the draft and its steps (`draft`), the forms of each step
(`forms`), the mapping rules and suggestions (`mapping`), the chain of Adobe objects made exactly once (`chain`), and
the deletion of a connection with everything made from it (`deletion`). The views are in app/web."""
