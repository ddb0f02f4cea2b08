package org.llmkit.samples.plan;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Where a {@link Plan} run put its outputs, with its headline numbers ({@code summary.json} holds them all).
 *
 * @param runFolder the run folder
 * @param initialValidationLoss validation loss before training, in nats per token
 * @param finalValidationLoss validation loss after training
 * @param perplexity the evaluation's perplexity on the validation sequences
 * @param sample the greedy completion of {@link Plan#SAMPLE_PROMPT} by the reloaded model
 * @param serveAnswer the server's answer to {@link Plan#CHAT_MESSAGE}
 * @param totalSeconds the whole run's wall time
 */
public record PlanSummary(Path runFolder, double initialValidationLoss, double finalValidationLoss, double perplexity,
        String sample, String serveAnswer, double totalSeconds) {

    static PlanSummary of(Path runFolder, JsonNode s) {
        return new PlanSummary(runFolder, s.path("training").path("initial_validation_loss").asDouble(),
                s.path("training").path("final_validation_loss").asDouble(),
                s.path("eval").path("perplexity").path("perplexity").asDouble(),
                s.path("sample").path("completion").asText(), s.path("serve").path("answer").asText(),
                s.path("total_seconds").asDouble());
    }

    static String markdown(JsonNode s) {
        StringBuilder b = new StringBuilder("# llmkit plan run\n\n");
        JsonNode t = s.path("training");
        JsonNode e = s.path("eval");
        b.append(String.format(Locale.ROOT, "- corpus: %,d documents %s%n", s.path("corpus").path("documents").asLong(),
                s.path("corpus").path("by_kind")));
        b.append(String.format(Locale.ROOT, "- pipeline: %,d kept of %,d; dropped %s; %,d training and %,d "
                        + "validation sequences (`data/report.md`)%n",
                s.path("pipeline").path("documents_out").asLong(), s.path("pipeline").path("documents_in").asLong(),
                s.path("pipeline").path("dropped_by_reason"), s.path("pipeline").path("train_sequences").asLong(),
                s.path("pipeline").path("validation_sequences").asLong()));
        b.append(String.format(Locale.ROOT, "- model: %s, %,d parameters%n", s.path("model").path("architecture")
                .asText(), s.path("model").path("parameters").asLong()));
        b.append(String.format(Locale.ROOT, "- training: %d steps, validation loss %.3f -> %.3f, %.0f tokens/s "
                        + "(`train/loss.png`, `train/metrics.jsonl`)%n", t.path("steps").asLong(),
                t.path("initial_validation_loss").asDouble(), t.path("final_validation_loss").asDouble(),
                t.path("tokens_per_second").asDouble()));
        b.append(String.format(Locale.ROOT, "- evaluation: perplexity %.2f, next-sentence accuracy %.2f (chance "
                        + "0.33), hero accuracy %.2f (chance 0.50), first token %.1f ms, decode %.0f tokens/s "
                        + "(`eval/report.md`)%n",
                e.path("perplexity").path("perplexity").asDouble(), e.path("story_next_sentence").path("acc").asDouble(),
                e.path("story_hero").path("acc").asDouble(), e.path("latency").path("time_to_first_token_ms").asDouble(),
                e.path("latency").path("decode_tokens_per_second").asDouble()));
        b.append("- sample: `").append(s.path("sample").path("prompt").asText()).append("` → ")
                .append(s.path("sample").path("completion").asText()).append('\n');
        b.append("- served answer to \"").append(Plan.CHAT_MESSAGE).append("\": ")
                .append(s.path("serve").path("answer").asText()).append(" (`serve/response.json`)\n\n");
        b.append("| step | seconds |\n| --- | ---: |\n");
        for (Map.Entry<String, JsonNode> step : s.path("seconds").properties()) {
            b.append(String.format(Locale.ROOT, "| %s | %.1f |%n", step.getKey(), step.getValue().asDouble()));
        }
        b.append(String.format(Locale.ROOT, "| total | %.1f |%n", s.path("total_seconds").asDouble()));
        return b.toString();
    }
}
