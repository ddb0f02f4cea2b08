package org.llmkit.samples.plan;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;

/** Prints "[3/7] pipeline: ..." when a step begins and its time when it ends, and records the times. */
final class StepLog {
    private final PrintStream log;
    private final int total;
    private final ObjectNode seconds;
    private int step;
    private String name;
    private long start;

    StepLog(PrintStream log, int total, ObjectNode seconds) {
        this.log = log;
        this.total = total;
        this.seconds = seconds;
    }

    void begin(String stepName, String what) {
        step++;
        name = stepName;
        start = System.nanoTime();
        log.printf("[%d/%d] %s: %s%n", step, total, stepName, what);
    }

    void end() {
        double s = (System.nanoTime() - start) / 1e9;
        seconds.put(name, s);
        log.printf("  (%s in %.1f s)%n", name, s);
    }
}
