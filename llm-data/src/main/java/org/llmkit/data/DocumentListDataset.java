package org.llmkit.data;

import java.util.List;

/** Documents held in a list. */
final class DocumentListDataset implements Dataset {

    private final List<Document> documents;

    DocumentListDataset(List<Document> documents) {
        this.documents = documents;
    }

    @Override
    public DocumentStream open() {
        return new DocumentStream() {
            private int next;

            @Override
            public Document next() {
                return next < documents.size() ? documents.get(next++) : null;
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public String describe() {
        return "memory[" + documents.size() + " documents]";
    }
}
