/**
 * A small builder for ONNX models in code: collects nodes, initialisers and the graph's
 * inputs and outputs under generated names, and encodes the model (onnx-graph.ts uses it).
 */
import protobuf from "onnx-proto";

const { onnx } = protobuf;
type INode = protobuf.onnx.INodeProto;
type ITensor = protobuf.onnx.ITensorProto;
type IValueInfo = protobuf.onnx.IValueInfoProto;
type IAttribute = protobuf.onnx.IAttributeProto;

type AttrValue = number | number[] | { float: number };

/** Collects nodes, initialisers and value infos; names are generated. */
export class Builder {
  /**
   * portable: only ops every execution provider the engine uses has a kernel for — ONNX
   * Runtime's WebGPU provider has none for Sum (nor MaxUnpool: onnx-graph.ts), and would run
   * such nodes on the CPU with a copy each way.
   */
  constructor(readonly portable = false) {}

  readonly nodes: INode[] = [];
  readonly initializers: ITensor[] = [];
  readonly inputs: IValueInfo[] = [];
  readonly outputs: IValueInfo[] = [];
  private count = 0;

  private fresh(op: string): string {
    return `${op}_${this.count++}`;
  }

  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.fresh(op.toLowerCase()));
    const attribute: IAttribute[] = Object.entries(attrs).map(([name, v]) => {
      if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
      if (typeof v === "number") return { name, type: onnx.AttributeProto.AttributeType.INT, i: v };
      return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v.float };
    });
    this.nodes.push({ opType: op, input: inputs, output: outputs, attribute, name: outputs[0] });
    return outputs;
  }

  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(op, inputs, attrs)[0]!;
  }

  /** The element-wise sum of `parts`: one Sum, or a chain of Adds when portable. */
  sum(parts: readonly string[]): string {
    if (parts.length === 0) throw new Error("Builder.sum: nothing to add");
    if (parts.length === 1) return parts[0]!;
    if (!this.portable) return this.op("Sum", [...parts]);
    return parts.slice(1).reduce((acc, part) => this.op("Add", [acc, part]), parts[0]!);
  }

  floats(values: Float32Array | number[], dims: number[]): string {
    const name = this.fresh("const");
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    this.initializers.push({
      name,
      dims,
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  scalar(value: number): string {
    return this.floats([value], []);
  }

  ints(values: number[]): string {
    const name = this.fresh("ints");
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      int64Data: values,
    });
    return name;
  }

  input(name: string, dims: number[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, from: string, dims: number[]): void {
    this.op("Identity", [from]); // keeps the requested output name independent of the node that makes it
    this.nodes[this.nodes.length - 1]!.output = [name];
    this.outputs.push(valueInfo(name, dims));
  }

  encode(name: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: "atelier-engine",
      opsetImport: [{ domain: "", version: 13 }],
      graph: {
        name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: number[]): IValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => ({ dimValue: d })) },
      },
    },
  };
}
