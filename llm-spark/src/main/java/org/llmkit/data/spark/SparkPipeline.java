package org.llmkit.data.spark;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.llmkit.data.Pipeline;
import org.llmkit.data.PipelinePlan;
import org.llmkit.data.PipelineReport;
import org.llmkit.data.StageReport;
import org.llmkit.data.StepRunner;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Runs an llm-data {@link Pipeline} on Apache Spark, with the same kept documents, the same output
 * (document for document, sequence for sequence) and the same {@link PipelineReport} counts as
 * {@link Pipeline#writeTo(java.nio.file.Path)} in-process.
 *
 * <pre>{@code
 * SparkSession spark = SparkSession.builder().appName("prepare").getOrCreate();   // master from spark-submit
 * PipelineReport report = SparkPipeline.on(spark)
 *         .input("hdfs:///corpora/pile/*.jsonl.zst")           // optional: read these instead of the pipeline's files
 *         .run(() -> Pipeline.from(Dataset.jsonl(Path.of("unused")))
 *                 .normalize().dedup().nearDedup(0.8).language("en").quality(QualityRules.gopher())
 *                 .tokenize(Tokenizer.load(Path.of("/models/llama3"))).pack(2048).split(0.99),
 *              "hdfs:///prepared/pile");                     // train/ and validation/ shards, report.json, report.md
 * }</pre>
 *
 * <p><b>How each stage runs.</b> The pipeline comes as a {@link PipelineRecipe}, built once on the
 * driver for the plan and once per task where tokenizers and detectors are needed.
 * <ul>
 *   <li>{@code read}: a {@link org.llmkit.data.FileDataset} (JSON Lines, text; gzip, zstd or plain,
 *       on any Hadoop file system) is read one file per task with llm-data's own parsers, so ids,
 *       malformed-record reasons and messages are the in-process ones; other datasets (CSV, in
 *       memory) are read on the driver. Split big corpora into many files: a file is one task.</li>
 *   <li>per-document steps (normalize, language, quality, toxicity, filter, map, tokenize): one
 *       {@code mapPartitions} per run of consecutive steps, with one pipeline (so one tokenizer,
 *       one language detector) per task.</li>
 *   <li>{@code dedup}: {@code reduceByKey} of the normalized-text hash to its smallest ordinal.</li>
 *   <li>{@code near_dedup}: MinHash signatures, band-key buckets ({@code groupByKey}), verified
 *       links, then connected components (Large-Star/Small-Star); each cluster keeps its earliest
 *       document, as in-process.</li>
 *   <li>output: one task per partition writes JSON Lines parts ({@code documents/part-00000.jsonl},
 *       ...) or raw tokens that a second job packs into the very sequences the in-process packer
 *       makes, then {@code tokens-NNNNN.bin} shards and {@code index.json} readable by
 *       {@link org.llmkit.data.TokenDataset#open(java.nio.file.Path)}.</li>
 * </ul>
 * Documents never leave their source partition: dedup decisions are sets of ordinals (bit sets,
 * broadcast), so up to 2^31 documents per run.
 *
 * <p><b>Exactly once.</b> Counts come from the output job's results, not from accumulators, and
 * each task attempt writes under {@code _temporary/}; only the files of the attempt Spark accepted
 * are moved into place, so a retried task neither duplicates output nor counts twice.
 *
 * <p>Spark must run with at least {@code spark.task.maxFailures} = 2 to retry (in local mode:
 * {@code local[N,2]}). Immutable; {@link #input(String...)} returns a new runner.
 */
public final class SparkPipeline {

    private final SparkSession spark;
    private final List<String> inputs;

    private SparkPipeline(SparkSession spark, List<String> inputs) {
        this.spark = spark;
        this.inputs = inputs;
    }

    /**
     * Starts a runner on a Spark session.
     *
     * @param spark the session
     * @return the runner
     */
    public static SparkPipeline on(SparkSession spark) {
        return new SparkPipeline(Objects.requireNonNull(spark, "spark must not be null"), List.of());
    }

    /**
     * Reads these Hadoop paths (files or folders; any file system Spark can reach, such as
     * {@code hdfs://}, {@code s3a://}, {@code file:}) instead of the files of the pipeline's JSON
     * Lines or text dataset, in the dataset's format (its text and id fields, per line or per file).
     *
     * @param paths the paths, read in the order given; folders in name order
     * @return the new runner
     * @throws IllegalArgumentException when no path is given or one is blank
     */
    public SparkPipeline input(String... paths) {
        if (paths.length == 0) {
            throw new IllegalArgumentException("input needs at least one path");
        }
        for (String p : paths) {
            if (p == null || p.isBlank()) {
                throw new IllegalArgumentException("input paths must not be blank");
            }
        }
        return new SparkPipeline(spark, List.of(paths));
    }

    /**
     * Runs the pipeline and writes its outputs and report into a folder, as
     * {@link Pipeline#writeTo(java.nio.file.Path)} does, except that documents go to part files
     * ({@code documents/part-00000.jsonl}, or {@code train/} and {@code validation/}).
     *
     * @param recipe builds the pipeline; called on the driver and in tasks
     * @param outputFolder a Hadoop path (a plain path is on Spark's default file system)
     * @return the report, also written as {@code report.json} and {@code report.md}
     * @throws IOException when reading or writing fails, or a malformed record fails the run
     *     (a {@link org.llmkit.data.DataFormatException} naming the file and line)
     * @throws IllegalStateException when the pipeline's settings do not fit together
     */
    public PipelineReport run(PipelineRecipe recipe, String outputFolder) throws IOException {
        Objects.requireNonNull(recipe, "recipe must not be null");
        Objects.requireNonNull(outputFolder, "outputFolder must not be null");
        long start = System.nanoTime();
        Pipeline pipeline;
        try {
            pipeline = recipe.build();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("the pipeline recipe failed: " + e.getMessage(), e);
        }
        PipelinePlan plan = pipeline.plan();
        try {
            return execute(recipe, plan, outputFolder, start);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) { // Spark's SparkException is checked but undeclared
            throw new IOException("Spark job failed: " + e.getMessage(), e);
        } finally {
            try {
                plan.closeResources();
            } catch (Exception e) {
                // the run's outcome matters more than a failed close
            }
        }
    }

    private PipelineReport execute(PipelineRecipe recipe, PipelinePlan plan, String outputFolder, long start)
            throws Exception {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        HadoopConf conf = new HadoopConf(jsc.hadoopConfiguration());
        Path out = new Path(outputFolder);
        FileSystem fs = HadoopConf.fileSystem(out, conf.get());
        out = fs.makeQualified(out);
        fs.mkdirs(out);
        String run = UUID.randomUUID().toString();
        List<JavaRDD<?>> cached = new ArrayList<>();
        try {
            SourceReader.Result read = SourceReader.read(jsc, plan, inputs, conf);
            if (read.cached() != null) {
                cached.add(read.cached());
            }
            JavaRDD<Rec> rdd = read.docs();
            List<PipelinePlan.Step> steps = plan.steps();
            Map<Integer, Dedup.Decision> decisions = new HashMap<>();
            Map<Integer, Double> seconds = new HashMap<>();
            for (int s = 0; s < steps.size(); ) {
                PipelinePlan.Kind kind = steps.get(s).kind();
                if (kind == PipelinePlan.Kind.DOCUMENT || kind == PipelinePlan.Kind.TOKENIZE) {
                    int t = s;
                    while (t < steps.size() && (steps.get(t).kind() == PipelinePlan.Kind.DOCUMENT
                            || steps.get(t).kind() == PipelinePlan.Kind.TOKENIZE)) {
                        t++;
                    }
                    rdd = DocumentSteps.apply(rdd, recipe, s, t);
                    s = t;
                    continue;
                }
                long stepStart = System.nanoTime();
                rdd = rdd.persist(StorageLevel.MEMORY_AND_DISK());
                cached.add(rdd);
                Dedup.Decision decision = kind == PipelinePlan.Kind.EXACT_DEDUP ? Dedup.exact(rdd)
                        : Dedup.near(rdd, steps.get(s).nearDedup());
                decisions.put(s, decision);
                seconds.put(s, (System.nanoTime() - stepStart) / 1e9);
                Broadcast<Dedup.Decision> shared = jsc.broadcast(decision);
                int step = s;
                String reason = kind == PipelinePlan.Kind.EXACT_DEDUP ? "duplicate" : "near_duplicate";
                rdd = rdd.map(r -> r.isAlive() && shared.value().drops(r.ordinal) ? Rec.dropped(r.ordinal, step, reason) : r);
                s++;
            }
            List<String> streams = plan.splits() ? List.of("train", "validation")
                    : List.of(plan.tokenizes() ? "tokens" : "documents");
            int bytesPerToken = plan.vocabSize() <= 65_536 ? 2 : 4;
            OutputWriter.Settings settings = new OutputWriter.Settings(out.toString(), run, plan.tokenizes(), streams,
                    plan.split(), bytesPerToken, plan.separatorId(), conf);
            List<OutputWriter.PartResult> parts = new ArrayList<>(OutputWriter.write(rdd, settings));
            parts.sort(Comparator.comparingInt(OutputWriter.PartResult::partition));

            long[] documents = new long[streams.size()];
            Map<String, OutputWriter.ReasonCount> drops = new HashMap<>();
            Map<Integer, Map<String, Object>> details = new HashMap<>();
            long[] lengths = new long[32];
            for (OutputWriter.PartResult part : parts) {
                part.drops().forEach((k, v) -> drops.merge(k, v, OutputWriter.ReasonCount::plus));
                part.details().forEach((k, v) -> details.merge(k, v, StepRunner::mergeDetails));
                for (int b = 0; b < 32; b++) {
                    lengths[b] += part.lengths()[b];
                }
                for (int i = 0; i < streams.size(); i++) {
                    documents[i] += part.streamDocuments()[i];
                }
            }
            Map<String, Object> outputs = new LinkedHashMap<>();
            if (plan.tokenizes()) {
                List<TokenPacker.Raw> raws = new ArrayList<>();
                for (int i = 0; i < streams.size(); i++) {
                    List<String> files = new ArrayList<>();
                    long[] tokens = new long[parts.size()];
                    for (int p = 0; p < parts.size(); p++) {
                        OutputWriter.TempFile f = parts.get(p).files().get(i);
                        files.add(f == null ? null : f.path());
                        tokens[p] = parts.get(p).streamTokens()[i];
                    }
                    raws.add(new TokenPacker.Raw(streams.get(i), files, tokens));
                }
                outputs.putAll(TokenPacker.pack(jsc, raws, new TokenPacker.Settings(out.toString(), run,
                        plan.packLength(), bytesPerToken, plan.shardBytes(), conf), plan.vocabSize(), plan.separatorId(),
                        documents));
            } else {
                List<OutputWriter.TempFile> files = new ArrayList<>();
                int[] fileCounts = new int[streams.size()];
                for (OutputWriter.PartResult part : parts) {
                    for (int i = 0; i < streams.size(); i++) {
                        if (part.files().get(i) != null) {
                            files.add(part.files().get(i));
                            fileCounts[i]++;
                        }
                    }
                }
                for (String stream : streams) {
                    fs.delete(new Path(out, stream), true);
                }
                OutputWriter.commit(fs, out, files);
                for (int i = 0; i < streams.size(); i++) {
                    Map<String, Object> entry = new LinkedHashMap<>();
                    entry.put("folder", new Path(out, streams.get(i)).toString());
                    entry.put("files", fileCounts[i]);
                    entry.put("documents", documents[i]);
                    outputs.put(streams.get(i), entry);
                }
            }

            List<StageReport> stages = new ArrayList<>();
            stages.add(read.report());
            long in = read.report().out();
            for (int s = 0; s < steps.size(); s++) {
                Map<String, Long> reasons = reasons(drops, s);
                long dropped = reasons.values().stream().mapToLong(Long::longValue).sum();
                Map<String, Object> stepDetails;
                Dedup.Decision decision = decisions.get(s);
                if (decision != null) {
                    stepDetails = plan.dedupDetails(s, decision.documents(), decision.clusters());
                } else {
                    stepDetails = details.getOrDefault(s, Map.of());
                }
                stages.add(new StageReport(steps.get(s).name(), in, in - dropped, reasons, seconds.getOrDefault(s, 0.0),
                        stepDetails));
                in -= dropped;
            }
            PipelineReport report = PipelineReport.of(plan.source().describe(), stages,
                    plan.tokenizes() ? StepRunner.histogram(lengths) : List.of(), outputs, read.problems(),
                    (System.nanoTime() - start) / 1e9);
            writeReport(report, fs, out);
            return report;
        } finally {
            for (JavaRDD<?> r : cached) {
                r.unpersist(false);
            }
            fs.delete(new Path(out, OutputWriter.TEMPORARY), true);
        }
    }

    /** A step's drop reasons in order of first occurrence in the source, as the in-process report lists them. */
    private static Map<String, Long> reasons(Map<String, OutputWriter.ReasonCount> drops, int step) {
        String prefix = step + "/";
        List<Map.Entry<String, OutputWriter.ReasonCount>> entries = new ArrayList<>();
        for (Map.Entry<String, OutputWriter.ReasonCount> e : drops.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                entries.add(e);
            }
        }
        entries.sort(Comparator.comparingLong(e -> e.getValue().first()));
        Map<String, Long> reasons = new LinkedHashMap<>();
        for (Map.Entry<String, OutputWriter.ReasonCount> e : entries) {
            reasons.put(e.getKey().substring(prefix.length()), e.getValue().count());
        }
        return reasons;
    }

    private static void writeReport(PipelineReport report, FileSystem fs, Path out) throws IOException {
        if ("file".equals(out.toUri().getScheme())) {
            report.writeTo(java.nio.file.Path.of(out.toUri()));
            return;
        }
        write(fs, new Path(out, PipelineReport.JSON_FILE), report.toJson().toPrettyString() + "\n");
        write(fs, new Path(out, PipelineReport.MARKDOWN_FILE), report.toMarkdown());
    }

    private static void write(FileSystem fs, Path target, String text) throws IOException {
        Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp");
        try (OutputStream o = fs.create(tmp, true)) {
            o.write(text.getBytes(StandardCharsets.UTF_8));
        }
        fs.delete(target, false);
        if (!fs.rename(tmp, target)) {
            throw new IOException("could not move " + tmp + " to " + target);
        }
    }
}
