/**
 * A learner's share of the cluster a class runs on (src/lab/share.ts) and
 * the quotas cut from it (labLimits, examTaskLimits): a class's reservations
 * together fit the node, whatever its size, and the instructor can set it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_TOOLBOX_RESOURCES, examTaskLimits, labLimits } from "../../src/lab/manifests.ts";
import {
  SHARE_FLOOR,
  allocatableOf,
  computeOf,
  cpuMilli,
  learnerShare,
  parseQuantity,
  parseShareOverride,
  type ComputeShare,
} from "../../src/lab/share.ts";

const MI = 1024 ** 2;
/** This project's node: 2 CPUs, 24629008Ki allocatable. */
const NODE = { status: { allocatable: { cpu: "2", memory: "24629008Ki", pods: "110" } } };
const TOOLBOX: ComputeShare = computeOf(DEFAULT_TOOLBOX_RESOURCES.requests);

/** What a class of `places` learners reserves at most: every lab's namespace, every exam task's, every toolbox. */
function classReserves(share: ComputeShare, places: number, examTasks: number): ComputeShare {
  const lab = labLimits(share).quota;
  const task = examTaskLimits(lab, examTasks).quota;
  return {
    cpuMilli:
      places * (cpuMilli(lab["requests.cpu"]!) + examTasks * cpuMilli(task["requests.cpu"]!) + TOOLBOX.cpuMilli),
    memoryBytes:
      places *
      (parseQuantity(lab["requests.memory"]!) +
        examTasks * parseQuantity(task["requests.memory"]!) +
        TOOLBOX.memoryBytes),
  };
}

describe("a learner's share", () => {
  const allocatable = allocatableOf([NODE]);

  it("reads quantities as the API server writes them", () => {
    assert.equal(cpuMilli("2"), 2000);
    assert.equal(cpuMilli("1500m"), 1500);
    assert.equal(cpuMilli("0.5"), 500);
    assert.equal(parseQuantity("24629008Ki"), 24629008 * 1024);
    assert.equal(parseQuantity("2Gi"), 2 * 1024 ** 3);
    assert.equal(parseQuantity("1G"), 1e9);
    assert.ok(Number.isNaN(parseQuantity("lots")));
  });

  it("adds the schedulable nodes' allocatable, leaving out cordoned ones", () => {
    const cordoned = { spec: { unschedulable: true }, status: { allocatable: { cpu: "8", memory: "32Gi" } } };
    assert.deepEqual(allocatableOf([NODE, NODE, cordoned]), {
      cpuMilli: 4000,
      memoryBytes: 2 * 24629008 * 1024,
    });
  });

  it("is the allocatable over the class's places, less the toolbox's requests", () => {
    const share = learnerShare({ allocatable, places: 50, toolbox: TOOLBOX });
    assert.equal(share.cpuMilli, 2000 / 50 - 10);
    assert.equal(share.memoryBytes, Math.floor((24629008 * 1024) / 50) - 32 * MI);
    const small = learnerShare({ allocatable, places: 10, toolbox: TOOLBOX });
    assert.equal(small.cpuMilli, 190, "a smaller class gets more each");
  });

  it("never goes below the floor, however many places", () => {
    const share = learnerShare({ allocatable, places: 200, toolbox: TOOLBOX });
    assert.deepEqual(share, { cpuMilli: SHARE_FLOOR.cpuMilli, memoryBytes: share.memoryBytes });
    const none = learnerShare({ allocatable: { cpuMilli: 0, memoryBytes: 0 }, places: 50, toolbox: TOOLBOX });
    assert.deepEqual(none, SHARE_FLOOR, "no node known: the floor");
  });

  it("is the instructor's where they set it, part by part", () => {
    const override = parseShareOverride("250m", undefined);
    assert.deepEqual(override, { cpuMilli: 250 });
    const share = learnerShare({ allocatable, places: 50, toolbox: TOOLBOX, override });
    assert.equal(share.cpuMilli, 250);
    assert.equal(share.memoryBytes, learnerShare({ allocatable, places: 50, toolbox: TOOLBOX }).memoryBytes);
    assert.deepEqual(parseShareOverride(undefined, "512Mi"), { memoryBytes: 512 * MI });
    assert.throws(() => parseShareOverride("lots", undefined), /invalid --learner-cpu lots/);
    assert.throws(() => parseShareOverride(undefined, "12"), /invalid --learner-memory 12/);
  });

  for (const places of [1, 10, 50, 100])
    it(`lets a class of ${places} on a 2-CPU node reserve no more than the node, sitting a 22-task exam`, () => {
      const share = learnerShare({ allocatable, places, toolbox: TOOLBOX });
      const reserved = classReserves(share, places, 22);
      assert.ok(reserved.cpuMilli <= allocatable.cpuMilli, `${reserved.cpuMilli}m of ${allocatable.cpuMilli}m`);
      assert.ok(reserved.memoryBytes <= allocatable.memoryBytes);
    });
});

describe("the quotas cut from a share", () => {
  const share: ComputeShare = { cpuMilli: 30, memoryBytes: 448 * MI };

  it("gives the lab's own namespace half of it, and reserves nothing for containers that ask for nothing", () => {
    const lab = labLimits(share);
    assert.equal(lab.quota["requests.cpu"], "15m");
    assert.equal(lab.quota["requests.memory"], "224Mi");
    assert.equal(lab.defaultRequests.cpu, "0");
    assert.equal(lab.defaultRequests.memory, "0");
    assert.deepEqual(lab.maxLimits, { cpu: "1", memory: "1Gi" });
    // A default limit within the maximum, or every container that states none would be refused.
    assert.ok(cpuMilli(lab.defaultLimits.cpu!) <= cpuMilli(lab.maxLimits.cpu!));
    assert.ok(parseQuantity(lab.defaultLimits.memory!) <= parseQuantity(lab.maxLimits.memory!));
  });

  it("splits the other half between an exam's task namespaces", () => {
    const lab = labLimits({ cpuMilli: 400, memoryBytes: 1024 * MI }).quota;
    const four = examTaskLimits(lab, 4).quota;
    assert.equal(four["requests.cpu"], "50m");
    assert.equal(four["requests.memory"], "128Mi");
    // Never more together than the lab's half, rounding down.
    const many = examTaskLimits(labLimits(share).quota, 22).quota;
    assert.ok(22 * cpuMilli(many["requests.cpu"]!) <= 15);
    assert.ok(22 * parseQuantity(many["requests.memory"]!) <= 224 * MI);
    assert.equal(examTaskLimits(lab, 0).quota["requests.cpu"], "200m", "no tasks: one slice");
  });
});
