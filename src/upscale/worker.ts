/** Worker-thread entry: runs upscale tasks (task.ts) posted by pool.ts, one at a time. */
import { serveTasks } from '../util/workerPool.ts';
import { runUpscaleTask } from './task.ts';

serveTasks(runUpscaleTask);
