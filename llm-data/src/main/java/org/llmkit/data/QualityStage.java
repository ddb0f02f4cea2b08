package org.llmkit.data;

/** Drops documents failing a {@link QualityRules} rule, with the rule's name as reason. */
final class QualityStage implements Stage {

    private final QualityRules rules;

    QualityStage(QualityRules rules) {
        this.rules = rules;
    }

    @Override
    public String name() {
        return "quality";
    }

    @Override
    public void process(Batch batch, Workers workers) {
        workers.forEach(batch.size(), i -> {
            if (batch.alive(i)) {
                batch.dropReason[i] = rules.firstFailure(batch.docs[i].text());
            }
        });
    }
}
