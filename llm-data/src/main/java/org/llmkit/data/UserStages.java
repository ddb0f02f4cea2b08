package org.llmkit.data;

import java.util.function.Function;
import java.util.function.Predicate;

/** The user's {@code filter} and {@code map} stages. */
final class UserStages {

    private UserStages() {
    }

    /** Keeps documents the predicate accepts; drops the others with the stage's reason. */
    static Stage filter(String name, String reason, Predicate<Document> predicate) {
        return new Stage() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void process(Batch batch, Workers workers) {
                workers.forEach(batch.size(), i -> {
                    if (batch.alive(i) && !predicate.test(batch.docs[i])) {
                        batch.dropReason[i] = reason;
                    }
                });
            }
        };
    }

    /** Replaces documents with what the function returns (never null). */
    static Stage map(String name, Function<Document, Document> function) {
        return new Stage() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void process(Batch batch, Workers workers) {
                workers.forEach(batch.size(), i -> {
                    if (batch.alive(i)) {
                        Document mapped = function.apply(batch.docs[i]);
                        if (mapped == null) {
                            throw new IllegalStateException("map stage \"" + name + "\" returned null for document "
                                    + batch.docs[i].id() + "; return a document, or drop it with filter(...)");
                        }
                        batch.docs[i] = mapped;
                    }
                });
            }
        };
    }
}
