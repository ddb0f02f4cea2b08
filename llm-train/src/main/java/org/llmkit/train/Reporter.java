package org.llmkit.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a person watching sees: a progress line every {@code logEvery} steps (step, loss, learning rate,
 * tokens/s, ETA) through SLF4J, a terminal progress bar on a console ({@link ProgressDisplay}),
 * {@code metrics.jsonl} with one line per step and per evaluation, and {@code loss.png} at the end, when a
 * log folder is set.
 */
final class Reporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FineTuner.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private final TrainingOptions o;
    private final long totalSteps;
    private final long firstStep;
    private final Path folder;
    private final ProgressDisplay progress;

    Reporter(TrainingOptions o, long totalSteps, long firstStep) throws IOException {
        this.o = o;
        this.totalSteps = totalSteps;
        this.firstStep = firstStep;
        this.folder = o.logPath();
        if (folder != null) {
            Files.createDirectories(folder);
        }
        this.progress = ProgressDisplay.open(o, totalSteps, firstStep);
    }

    void step(StepMetrics m) throws IOException {
        progress.update(m);
        if (m.step() % o.logEvery == 0 || m.step() == totalSteps) {
            double done = m.step() - firstStep;
            double eta = done > 0 ? m.elapsedSeconds() / done * (totalSteps - m.step()) : 0;
            LOG.info(String.format("step %d/%d  loss %.4f  lr %.3g  grad-norm %.3f  %.0f tokens/s  ETA %s",
                    m.step(), totalSteps, m.loss(), m.learningRate(), m.gradientNorm(), m.tokensPerSecond(),
                    duration(eta)));
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("type", "step");
        line.put("step", m.step());
        line.put("epoch", m.epoch());
        line.put("loss", m.loss());
        line.put("grad_norm", m.gradientNorm());
        line.put("learning_rate", m.learningRate());
        line.put("tokens", m.tokens());
        line.put("tokens_per_second", m.tokensPerSecond());
        if (!"FP32".equals(o.precision)) {
            line.put("skipped", m.skipped());
            line.put("loss_scale", m.lossScale());
        }
        append(line);
    }

    void evaluation(Evaluation e) throws IOException {
        LOG.info(String.format("eval at step %d  loss %.4f  perplexity %.3f", e.step(), e.loss(), e.perplexity()));
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("type", "eval");
        line.put("step", e.step());
        line.put("loss", e.loss());
        line.put("perplexity", e.perplexity());
        append(line);
        for (TrainingListener l : o.listeners) {
            l.onEvaluation(e);
        }
    }

    void finish(History history) throws IOException {
        progress.close();
        if (folder != null) {
            LossChart.write(history, folder.resolve("loss.png"));
        }
    }

    private void append(Map<String, Object> line) throws IOException {
        if (folder == null) {
            return;
        }
        try (BufferedWriter w = Files.newBufferedWriter(folder.resolve("metrics.jsonl"), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            w.write(JSON.writeValueAsString(line));
            w.write('\n');
        }
    }

    /** Stops the progress bar (also when training ends with an exception). */
    @Override
    public void close() {
        progress.close();
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
