package org.llmkit.data.spark;

import org.llmkit.data.Pipeline;

import java.io.Serializable;

/**
 * Builds the {@link Pipeline} to run on Spark. Spark calls it once on the driver and once per
 * task on the executors, so that tokenizers, language detectors and scorers (native handles, not
 * serializable) are built where they are used; each call must build the same pipeline.
 *
 * <p>Write it as a lambda or a method reference; what it captures must be serializable (capture
 * paths as {@code String}s, not {@link java.nio.file.Path}s):
 * <pre>{@code
 * String input = "/data/dump.jsonl.zst", tokenizer = "/models/llama/tokenizer.json";
 * PipelineRecipe recipe = () -> Pipeline.from(Dataset.jsonl(Path.of(input)))
 *         .normalize().dedup().nearDedup(0.8).language("en")
 *         .tokenize(Tokenizer.load(Path.of(tokenizer))).pack(2048);
 * }</pre>
 *
 * <p>Resources the pipeline holds (its tokenizer, {@link AutoCloseable} toxicity scorers) are
 * closed by {@link SparkPipeline} when the task that built them ends, so build fresh ones here
 * rather than returning shared instances.
 */
@FunctionalInterface
public interface PipelineRecipe extends Serializable {

    /**
     * Builds the pipeline.
     *
     * @return the pipeline
     * @throws Exception when a resource (a tokenizer, a model) cannot be loaded
     */
    Pipeline build() throws Exception;
}
