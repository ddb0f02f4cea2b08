package org.llmkit.eval;

/** A metric a {@link MultipleChoiceTask} can report, under its lm-evaluation-harness name. */
public enum TaskMetric {
    /** {@code acc}: the choice with the highest summed log-likelihood is the gold one. */
    ACC("acc"),
    /** {@code acc_norm}: the same with the log-likelihood divided by the choice's characters. */
    ACC_NORM("acc_norm"),
    /** {@code f1}: binary F1 of the predicted choice index, choice 1 positive; two-choice tasks only. */
    F1("f1"),
    /**
     * {@code f1}: macro F1, the unweighted mean of the binary F1 of every choice index (a class that
     * never occurs counts as 0), as lm-eval scores CommitmentBank; tasks whose examples all have the
     * same number of choices. Reported under the key {@code f1}.
     */
    F1_MACRO("f1"),
    /** {@code mcc}: Matthews correlation of the predicted choice index. */
    MCC("mcc");

    private final String key;

    TaskMetric(String key) {
        this.key = key;
    }

    /**
     * Returns the name the metric has in reports.
     *
     * @return for example {@code "acc_norm"}
     */
    public String key() {
        return key;
    }
}
