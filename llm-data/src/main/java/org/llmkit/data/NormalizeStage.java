package org.llmkit.data;

/** Applies {@link TextNormalizer}; documents left empty are dropped as {@code empty}. */
final class NormalizeStage implements Stage {

    static final String EMPTY = "empty";

    @Override
    public String name() {
        return "normalize";
    }

    @Override
    public void process(Batch batch, Workers workers) {
        workers.forEach(batch.size(), i -> {
            if (batch.alive(i)) {
                String text = TextNormalizer.normalize(batch.docs[i].text());
                if (text.isEmpty()) {
                    batch.dropReason[i] = EMPTY;
                } else if (!text.equals(batch.docs[i].text())) {
                    batch.docs[i] = batch.docs[i].withText(text);
                }
            }
        });
    }
}
