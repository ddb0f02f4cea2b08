package org.llmkit.train;

import java.io.PrintStream;
import java.time.Duration;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The terminal progress bar of a run (me.tongfei:progressbar): steps done of the total, elapsed time and
 * ETA, and the last step's loss, learning rate and tokens/s. Shown only on an interactive console and
 * outside CI (without a terminal the bar would fill logs with carriage returns; the periodic log lines and
 * {@code metrics.jsonl} carry the same figures), and never after {@code progress(false)}. A display that is
 * off does nothing.
 */
final class ProgressDisplay implements AutoCloseable {
    private static final ProgressDisplay OFF = new ProgressDisplay(null);
    private final ProgressBar bar;
    private boolean closed;

    private ProgressDisplay(ProgressBar bar) {
        this.bar = bar;
    }

    /**
     * Opens the bar on standard error when the run asks for it and a console is attached.
     *
     * @param o the run's settings
     * @param totalSteps the run's steps
     * @param firstStep steps already done (after a resume)
     * @return the display, possibly off
     */
    static ProgressDisplay open(TrainingOptions o, long totalSteps, long firstStep) {
        if (!shown(o.progress, System.console() != null, System.getenv("CI"))) {
            return OFF;
        }
        return new ProgressDisplay(builder(totalSteps, firstStep).build());
    }

    /**
     * Decides whether to draw a bar.
     *
     * @param requested the {@code progress} option
     * @param console whether the JVM has an interactive console
     * @param ci the {@code CI} environment variable, or null
     * @return true to draw
     */
    static boolean shown(boolean requested, boolean console, String ci) {
        return requested && console && (ci == null || ci.isEmpty() || "false".equalsIgnoreCase(ci));
    }

    /**
     * Opens a bar that renders into a stream of a fixed width, whatever the terminal.
     *
     * @param out where the bar is drawn
     * @param width the rendered length in characters
     * @param totalSteps the run's steps
     * @param firstStep steps already done
     * @return the display
     */
    static ProgressDisplay to(PrintStream out, int width, long totalSteps, long firstStep) {
        return new ProgressDisplay(builder(totalSteps, firstStep)
                .setConsumer(new ConsoleProgressBarConsumer(out, width)).build());
    }

    private static ProgressBarBuilder builder(long totalSteps, long firstStep) {
        return new ProgressBarBuilder().setTaskName("train").setInitialMax(totalSteps).setUnit(" steps", 1)
                .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(500)
                .startsFrom(firstStep, Duration.ZERO);
    }

    /** @return whether a bar is drawn */
    boolean isOn() {
        return bar != null;
    }

    /**
     * Moves the bar to a finished step.
     *
     * @param m the step
     */
    void update(StepMetrics m) {
        if (bar == null || closed) {
            return;
        }
        bar.stepTo(m.step());
        bar.setExtraMessage(String.format("loss %.4f lr %.3g %.0f tok/s%s", m.loss(), m.learningRate(),
                m.tokensPerSecond(), m.skipped() ? " (skipped)" : ""));
    }

    /** Draws the final state and stops the bar's refresh thread. */
    @Override
    public void close() {
        if (bar != null && !closed) {
            closed = true;
            bar.close();
        }
    }
}
