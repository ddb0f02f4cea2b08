package org.llmkit.data.spark;

import org.apache.spark.sql.SparkSession;
import org.llmkit.api.Tokenizer;
import org.llmkit.data.Dataset;
import org.llmkit.data.Pipeline;
import org.llmkit.data.PipelineReport;
import org.llmkit.data.QualityRules;

import java.nio.file.Path;

/**
 * A runnable example: cleans JSON Lines files on Spark and, given a tokenizer, writes packed
 * training shards. Without {@code --master} it runs in local mode on all cores.
 *
 * <pre>
 * spark-submit --class org.llmkit.data.spark.SparkPipelineExample --jars llm-spark-deps.jar \
 *     llm-spark.jar INPUT OUTPUT [TOKENIZER]
 * </pre>
 */
public final class SparkPipelineExample {

    private SparkPipelineExample() {
    }

    /**
     * Runs the example.
     *
     * @param args input (Hadoop path of JSON Lines files), output folder, optional tokenizer folder
     * @throws Exception when the run fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: SparkPipelineExample INPUT OUTPUT [TOKENIZER]");
            System.exit(2);
        }
        String input = args[0];
        String tokenizer = args.length > 2 ? args[2] : null;
        SparkSession.Builder builder = SparkSession.builder().appName("llmkit-prepare");
        if (!System.getProperties().containsKey("spark.master")) {
            builder = builder.master("local[*]");
        }
        try (SparkSession spark = builder.getOrCreate()) {
            PipelineReport report = SparkPipeline.on(spark).input(input).run(() -> recipe(tokenizer), args[1]);
            System.out.println(report.toMarkdown());
        }
    }

    /** The pipeline, the same in-process and on Spark; the input path is given to {@link SparkPipeline#input}. */
    static Pipeline recipe(String tokenizer) throws Exception {
        Pipeline p = Pipeline.from(Dataset.jsonl(Path.of("input"))).skipMalformed()
                .normalize().dedup().nearDedup(0.8).language("en").quality(QualityRules.gopher());
        return tokenizer == null ? p : p.tokenize(Tokenizer.load(Path.of(tokenizer))).pack(2048).split(0.99);
    }
}
