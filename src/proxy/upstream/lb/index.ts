// The load-balancer package: per-policy pickers, the priority/locality layer, the request hash.
export { createPicker, isHashPolicy } from './factory.js';
export { PriorityLoadBalancer, computePriorityLoad, type LbEntry, type PriorityLbOptions } from './priority.js';
export { hashKey, combineHashes, murmur3 } from './hash.js';
export { seededRandom, type LbHost, type Picker, type PickerOptions, type Random } from './types.js';
