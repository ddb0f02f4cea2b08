package org.llmkit.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;
import org.llmkit.data.DataFormatException;

/**
 * Reads a Parquet file into {@link HfExport.Row}s whose fields are the JSON that
 * {@code Dataset.to_json} would write for the same record, so that every task maps Parquet and
 * JSON Lines rows alike: strings (and enums, JSON) as text, integers as numbers (unsigned ones
 * widened), booleans, floats, decimals, lists as arrays, structs as objects, nulls as JSON
 * {@code null}, other binary as base64. Row numbers are 1-based within the file.
 *
 * <p>Uses parquet-java's {@link ParquetFileReader} on a {@link LocalInputFile} with
 * {@link ParquetCodecs}, so no Hadoop code runs (Hadoop's classes only need to be loadable).
 */
final class ParquetRows {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private ParquetRows() { }

    static List<HfExport.Row> read(Path file) throws IOException {
        ParquetReadOptions options = ParquetReadOptions.builder(new PlainParquetConfiguration())
                .withCodecFactory(new ParquetCodecs()).build();
        List<HfExport.Row> rows = new ArrayList<>();
        try (ParquetFileReader reader = open(file, options)) {
            checkCodecs(file, reader);
            var schema = reader.getFooter().getFileMetaData().getSchema();
            MessageColumnIO io = new ColumnIOFactory().getColumnIO(schema);
            long row = 0;
            for (PageReadStore pages = nextRowGroup(file, reader, row); pages != null;
                    pages = nextRowGroup(file, reader, row)) {
                RecordReader<Group> records = io.getRecordReader(pages, new GroupRecordConverter(schema));
                for (long i = 0; i < pages.getRowCount(); i++) {
                    row++;
                    rows.add(new HfExport.Row(file, row, object(file, row, records)));
                }
            }
        }
        return rows;
    }

    private static ParquetFileReader open(Path file, ParquetReadOptions options) throws IOException {
        try {
            return new ParquetFileReader(new LocalInputFile(file), options);
        } catch (RuntimeException e) {
            throw new DataFormatException(file, 0, DataFormatException.MALFORMED,
                    "not a readable Parquet file (" + e.getMessage() + ")");
        }
    }

    private static void checkCodecs(Path file, ParquetFileReader reader) {
        for (BlockMetaData block : reader.getRowGroups()) {
            for (ColumnChunkMetaData column : block.getColumns()) {
                if (!ParquetCodecs.SUPPORTED.contains(column.getCodec())) {
                    throw new UnsupportedOperationException(file + ": column " + column.getPath()
                            + " is compressed with " + column.getCodec() + ", which llmkit does not read; supported: "
                            + ParquetCodecs.SUPPORTED + " (rewrite the file with pyarrow, compression='snappy')");
                }
            }
        }
    }

    private static PageReadStore nextRowGroup(Path file, ParquetFileReader reader, long rowsSoFar) throws IOException {
        try {
            return reader.readNextRowGroup();
        } catch (RuntimeException e) {
            throw new DataFormatException(file, rowsSoFar + 1, DataFormatException.MALFORMED,
                    "row " + (rowsSoFar + 1) + ": cannot read its row group (" + e.getMessage() + ")");
        }
    }

    private static ObjectNode object(Path file, long row, RecordReader<Group> records) throws DataFormatException {
        try {
            return object(records.read());
        } catch (RuntimeException e) {
            throw new DataFormatException(file, row, DataFormatException.MALFORMED,
                    "row " + row + ": cannot decode it (" + e.getMessage() + ")");
        }
    }

    private static ObjectNode object(Group group) {
        GroupType type = group.getType();
        ObjectNode out = JSON.objectNode();
        for (int f = 0; f < type.getFieldCount(); f++) {
            Type field = type.getType(f);
            int count = group.getFieldRepetitionCount(f);
            if (field.isRepetition(Type.Repetition.REPEATED)) {
                ArrayNode values = out.putArray(field.getName());
                for (int i = 0; i < count; i++) {
                    values.add(value(group, f, i, field));
                }
            } else {
                out.set(field.getName(), count == 0 ? JSON.nullNode() : value(group, f, 0, field));
            }
        }
        return out;
    }

    private static JsonNode value(Group group, int field, int index, Type type) {
        if (!type.isPrimitive()) {
            Group child = group.getGroup(field, index);
            return type.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation
                    ? list(child) : object(child);
        }
        PrimitiveType primitive = type.asPrimitiveType();
        LogicalTypeAnnotation logical = primitive.getLogicalTypeAnnotation();
        return switch (primitive.getPrimitiveTypeName()) {
            case BOOLEAN -> JSON.booleanNode(group.getBoolean(field, index));
            case INT32 -> decimal(logical) != null
                    ? JSON.numberNode(BigDecimal.valueOf(group.getInteger(field, index), decimal(logical).getScale()))
                    : unsigned(logical) ? JSON.numberNode(Integer.toUnsignedLong(group.getInteger(field, index)))
                    : JSON.numberNode(group.getInteger(field, index));
            case INT64 -> decimal(logical) != null
                    ? JSON.numberNode(BigDecimal.valueOf(group.getLong(field, index), decimal(logical).getScale()))
                    : unsigned(logical) ? JSON.numberNode(new BigInteger(Long.toUnsignedString(group.getLong(field, index))))
                    : JSON.numberNode(group.getLong(field, index));
            case FLOAT -> JSON.numberNode(group.getFloat(field, index));
            case DOUBLE -> JSON.numberNode(group.getDouble(field, index));
            case BINARY, FIXED_LEN_BYTE_ARRAY -> textual(logical) ? JSON.textNode(group.getString(field, index))
                    : decimal(logical) != null ? JSON.numberNode(new BigDecimal(
                            new BigInteger(group.getBinary(field, index).getBytes()), decimal(logical).getScale()))
                    : JSON.binaryNode(group.getBinary(field, index).getBytes());
            case INT96 -> JSON.binaryNode(group.getInt96(field, index).getBytes());
        };
    }

    /** A LIST group: {@code repeated group list { element }} (or the legacy two-level form). */
    private static ArrayNode list(Group listGroup) {
        ArrayNode out = JSON.arrayNode();
        if (listGroup.getType().getFieldCount() != 1) {
            return out.add(object(listGroup));
        }
        Type repeated = listGroup.getType().getType(0);
        for (int i = 0; i < listGroup.getFieldRepetitionCount(0); i++) {
            if (repeated.isPrimitive() || repeated.asGroupType().getFieldCount() != 1) {
                out.add(value(listGroup, 0, i, repeated));
            } else {
                Group item = listGroup.getGroup(0, i);
                Type element = item.getType().getType(0);
                out.add(item.getFieldRepetitionCount(0) == 0 ? JSON.nullNode() : value(item, 0, 0, element));
            }
        }
        return out;
    }

    private static boolean textual(LogicalTypeAnnotation logical) {
        return logical instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
                || logical instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation
                || logical instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation;
    }

    private static boolean unsigned(LogicalTypeAnnotation logical) {
        return logical instanceof LogicalTypeAnnotation.IntLogicalTypeAnnotation i && !i.isSigned();
    }

    private static LogicalTypeAnnotation.DecimalLogicalTypeAnnotation decimal(LogicalTypeAnnotation logical) {
        return logical instanceof LogicalTypeAnnotation.DecimalLogicalTypeAnnotation d ? d : null;
    }
}
